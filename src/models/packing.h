/* SPDX-License-Identifier: MIT
 *
 * Compact encodings of a pruned classifier's input matrix in the model file (format version 3,
 * classifier.h): rows of 6-bit weights, half-precision row scales and kept bucket ids as
 * gaps. They exist for the byte budget of the shipped models: at 32 dimensions an 8-bit row
 * with a float scale and a u32 bucket id takes 40 bytes, a 6-bit row with a half scale and a
 * one- or two-byte gap about 27, so the same file holds half as many rows again. Everything
 * is unpacked at load into the 8-bit rows and float scales prediction reads, so the hot path
 * does not change. Only src/models/ includes this.
 */
#ifndef MN_MODELS_PACKING_H
#define MN_MODELS_PACKING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 6-bit weights are -31..31, stored as w + 32; weight i of the matrix is bits [6i, 6i + 6) of
 * the section read as one little-endian bit string; the last byte's unused bits are 0. */
enum { MN_PACK6_MAX = 31 };

static inline size_t mn_pack6_bytes(size_t cells)
{
    return (cells * 6 + 7) / 8;
}

/* Packs cells weights (each in -32..31) into dst, mn_pack6_bytes(cells) bytes. */
static inline void mn_pack6(const int8_t *w, size_t cells, uint8_t *dst)
{
    uint32_t acc = 0;
    unsigned nbits = 0;
    size_t o = 0;
    for (size_t i = 0; i < cells; i++) {
        acc |= (uint32_t)((w[i] + 32) & 63) << nbits;
        nbits += 6;
        while (nbits >= 8) {
            dst[o++] = (uint8_t)acc;
            acc >>= 8;
            nbits -= 8;
        }
    }
    if (nbits)
        dst[o] = (uint8_t)acc;
}

/* Unpacks cells weights from src (mn_pack6_bytes(cells) bytes). Returns 0, or -1 if the last
 * byte's unused bits are not 0 (a file that was not written by mn_pack6). */
static inline int mn_unpack6(const uint8_t *src, size_t cells, int8_t *w)
{
    /* Four weights from every three bytes, without a branch (the language model's 2.2 million
     * weights are unpacked at every load); then the rest one at a time. */
    size_t whole = cells / 4;
    for (size_t g = 0; g < whole; g++) {
        const uint8_t *b = src + 3 * g;
        int8_t *o4 = w + 4 * g;
        o4[0] = (int8_t)((b[0] & 63) - 32);
        o4[1] = (int8_t)(((b[0] >> 6) | ((b[1] & 15) << 2)) - 32);
        o4[2] = (int8_t)(((b[1] >> 4) | ((b[2] & 3) << 4)) - 32);
        o4[3] = (int8_t)((b[2] >> 2) - 32);
    }
    src += 3 * whole;
    w += 4 * whole;
    cells -= 4 * whole;
    uint32_t acc = 0;
    unsigned nbits = 0;
    size_t o = 0;
    for (size_t i = 0; i < cells; i++) {
        if (nbits < 6) {
            acc |= (uint32_t)src[o++] << nbits;
            nbits += 8;
        }
        w[i] = (int8_t)((int)(acc & 63) - 32);
        acc >>= 6;
        nbits -= 6;
    }
    return acc == 0 ? 0 : -1;
}

/* IEEE 754 half precision, round to nearest even. Only finite values in the half range are
 * asked for (row scales: positive, far below 65504); larger ones give infinity. */
static inline uint16_t mn_half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    int exp = (int)((x >> 23) & 0xffu) - 127 + 15;
    if (((x >> 23) & 0xffu) == 0xffu)
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) { /* subnormal half, or zero */
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - exp);
        uint32_t h = mant >> shift, rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
        h++; /* a carry into the exponent is still the right value (or infinity) */
    return (uint16_t)(sign | h);
}

static inline float mn_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                exp--;
            }
            x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* Unsigned LEB128: 7 bits per byte, low bits first, the top bit set on every byte but the last.
 * Writes v at dst (up to 5 bytes) and returns the bytes written. */
static inline size_t mn_varint_put(uint32_t v, uint8_t *dst)
{
    size_t n = 0;
    while (v >= 0x80u) {
        dst[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

static inline size_t mn_varint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80u) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads one varint from [*p, end): returns 0 and advances *p, or -1 if it runs past end, takes
 * more than 5 bytes or does not fit 32 bits. */
static inline int mn_varint_get(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint32_t x = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        if (i == 4 && b > 0x0fu)
            return -1;
        x |= (uint32_t)(b & 0x7fu) << (7 * i);
        if (!(b & 0x80u)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

#endif
