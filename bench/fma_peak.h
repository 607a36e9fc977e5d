/* The CPU's fp32 FMA peak, measured: the ceiling any fp32 kernel of libcartoon can reach on
 * this machine (cartoon-bench prints each layer's share of it beside the sgemm peak). */
#ifndef CARTOON_BENCH_FMA_PEAK_H
#define CARTOON_BENCH_FMA_PEAK_H

/* GFLOP/s (a fused multiply-add = 2) of a register-only loop of independent FMAs at the vector
 * width of isa (cartoon_cpu_isa(): "avx512..." 16 lanes, "avx2" 8 lanes; anything else, the
 * portable kernels' 4-float GCC vectors with a multiply and an add), run on `threads` threads
 * at once: the best of 5 runs of about 0.1 s each. Returns 0 when threads < 1 or a thread
 * cannot be started. */
double fma_peak_gflops(const char *isa, int threads);

#endif
