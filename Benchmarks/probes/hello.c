// The process floor: a statically linked C program that prints one line and exits (no dynamic loader).
//   cc -O2 -static -o hello hello.c
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
