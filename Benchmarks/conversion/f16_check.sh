#!/bin/sh
# Exhaustive bit check and micro-benchmark of the branch-free float16/bfloat16 conversions (issue 10): every one of
# the 2^32 float32 patterns is narrowed by FloatConversion and by the scalar FloatBits reference, then 64 Mi
# elements are converted each way by both. Builds a standalone -O binary from the two source files.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
{
  sed -n '/^public enum FloatBits/,/^}/p' "$ROOT/Sources/LSTMModel/DType.swift" | sed 's/public //'
  sed -n '/^package enum FloatConversion/,/^    \/\/\/ `count` elements/p' "$ROOT/Sources/LSTMModel/FloatConversion.swift" | sed 's/package //' | sed '$d'
  echo "}"
  cat <<'SWIFT'
import Foundation
var bad = 0
for hi in 0...UInt32(0xFFFF) {
    for lo in 0...UInt32(0xFFFF) {
        let bits = hi << 16 | lo
        let v = Float(bitPattern: bits)
        if FloatConversion.narrowToHalf(bits) != FloatBits.half(from: v) { bad += 1 }
        if FloatConversion.narrowToBFloat(bits) != FloatBits.bfloat(from: v) { bad += 1 }
    }
}
print("exhaustive f32 -> f16/bf16 mismatches:", bad)
let n = 64 << 20
var src = [UInt32](repeating: 0, count: n)
var g = SystemRandomNumberGenerator()
for i in 0..<n { src[i] = (Float.random(in: -4...4, using: &g)).bitPattern }
var dst = [UInt16](repeating: 0, count: n)
var back = [UInt32](repeating: 0, count: n)
func time(_ label: String, _ body: () -> Void) { let t = Date(); body(); print(label, String(format: "%.1f ms", Date().timeIntervalSince(t) * 1000)) }
time("scalar FloatBits f32->f16 ") { for i in 0..<n { dst[i] = FloatBits.half(from: Float(bitPattern: src[i])) } }
time("branch-free      f32->f16 ") { src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = FloatConversion.narrowToHalf(s[i]) } } } }
time("scalar FloatBits f16->f32 ") { for i in 0..<n { back[i] = FloatBits.float(fromHalf: dst[i]).bitPattern } }
time("branch-free      f16->f32 ") { dst.withUnsafeBufferPointer { s in back.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = FloatConversion.widenHalf(s[i]) } } } }
time("scalar FloatBits f32->bf16") { for i in 0..<n { dst[i] = FloatBits.bfloat(from: Float(bitPattern: src[i])) } }
time("branch-free      f32->bf16") { src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = FloatConversion.narrowToBFloat(s[i]) } } } }
print("checksum", dst[12345], back[777])
SWIFT
} > "$WORK/main.swift"
swiftc -O "$WORK/main.swift" -o "$WORK/f16check"
"$WORK/f16check"
