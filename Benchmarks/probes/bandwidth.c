// Read bandwidth of one core over a buffer of a given size (the limit of a batch-1 recurrent step, which streams
// the packed W_h^T once per step: 16 MiB for H = 1024). Prints JSON: {"bytes": N, "gbps": best GB/s}.
//   cc -O2 -o bandwidth bandwidth.c && ./bandwidth 16777216
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v16 __attribute__((vector_size(64)));

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t bytes = argc > 1 ? strtoull(argv[1], 0, 10) : (size_t)16 << 20;
    int rounds = argc > 2 ? atoi(argv[2]) : 40;
    size_t count = bytes / sizeof(v16);
    v16 *buffer = aligned_alloc(64, count * sizeof(v16));
    memset(buffer, 1, count * sizeof(v16));
    double best = 1e30;
    v16 sink = {0};
    for (int round = 0; round < rounds; round++) {
        double start = now();
        v16 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (size_t i = 0; i + 4 <= count; i += 4) {
            s0 += buffer[i];
            s1 += buffer[i + 1];
            s2 += buffer[i + 2];
            s3 += buffer[i + 3];
        }
        sink += s0 + s1 + s2 + s3;
        double took = now() - start;
        if (took < best) best = took;
    }
    float keep = 0;
    for (int k = 0; k < 16; k++) keep += sink[k];
    printf("{\"bytes\": %zu, \"gbps\": %.2f, \"checksum\": %g}\n", count * sizeof(v16), count * sizeof(v16) / best / 1e9, keep);
    return 0;
}
