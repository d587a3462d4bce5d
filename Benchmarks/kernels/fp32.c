/* FP single: a Mandelbrot set in float (mul, add, compare) and a Jacobi relaxation on a float
 * grid (loads, stores, mul-add without fusion, min/max and float<->int conversions).
 * Size: rows of the Mandelbrot image; the relaxation scales with it. */
#include "bench.h"

#define GRID 96
static float grid[2][GRID][GRID];

static NOINLINE uint32_t mandel_row(int y, int width, int height) {
    uint32_t sum = 0;
    float ci = 2.0f * (float)y / (float)height - 1.0f;
    for (int x = 0; x < width; x++) {
        float cr = 3.0f * (float)x / (float)width - 2.0f;
        float zr = 0, zi = 0;
        int i = 0;
        for (; i < 200; i++) {
            float zr2 = zr * zr, zi2 = zi * zi;
            if (zr2 + zi2 > 4.0f) break;
            zi = 2.0f * zr * zi + ci;
            zr = zr2 - zi2 + cr;
        }
        sum = sum * 31 + (uint32_t)i;
    }
    return sum;
}

static NOINLINE void relax(int from, int to) {
    for (int y = 1; y < GRID - 1; y++)
        for (int x = 1; x < GRID - 1; x++) {
            float v = 0.25f * (grid[from][y - 1][x] + grid[from][y + 1][x] +
                               grid[from][y][x - 1] + grid[from][y][x + 1]);
            grid[to][y][x] = __builtin_fminf(__builtin_fmaxf(v, -100.0f), 100.0f);
        }
}

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 200);
    uint64_t sum = 0;
    for (long y = 0; y < size; y++) sum = bench_mix(sum, mandel_row((int)y, 600, (int)size));

    for (int y = 0; y < GRID; y++)
        for (int x = 0; x < GRID; x++) grid[0][y][x] = grid[1][y][x] = (float)((x * 13 + y * 7) % 41) - 20.0f;
    for (int y = 0; y < GRID; y++) grid[0][y][0] = grid[1][y][0] = 90.0f;
    long sweeps = size * 2;
    for (long s = 0; s < sweeps; s++) relax((int)(s & 1), (int)((s + 1) & 1));
    for (int y = 0; y < GRID; y += 5)
        for (int x = 0; x < GRID; x += 3) sum = bench_mix(sum, bench_float_bits(grid[sweeps & 1][y][x]));
    long truncated = 0;
    for (int y = 0; y < GRID; y++) truncated += (long)(grid[sweeps & 1][y][y] * 1000.0f);
    sum = bench_mix(sum, (uint64_t)truncated);
    bench_done("fp32", size, sum);
    return 0;
}
