/* Times NumPy's BLAS calls from inside the process, for bench/matmul_time.py.
 *
 * Preloaded (LD_PRELOAD), this library defines the CBLAS entry points that NumPy's wheels
 * call in their bundled OpenBLAS (scipy-openblas, 64-bit integers): sgemm, dgemm, sgemv,
 * dgemv, ssyrk, dsyrk. Each forwards to the real one, looked up in the library named by the
 * environment variable TIDU_BLAS_LIB (NumPy loads it privately, so RTLD_NEXT cannot see it),
 * and adds its wall time
 * (CLOCK_MONOTONIC, two reads a call) and its product's FLOPs to the counters below, which the
 * script reads with ctypes. FLOPs are the product's, 2 m n k (syrk too: NumPy uses it for
 * a.T @ a and copies the other triangle, so its time buys the whole product). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef int64_t bint;

double tidu_blas_seconds = 0.0;
double tidu_blas_flops = 0.0;
long tidu_blas_calls = 0;

/* The last calls, for a per-shape breakdown: a ring of (kind, m, n, k, transa, transb) and
 * their seconds, kind 0 sgemm, 1 dgemm, 2 sgemv, 3 dgemv, 4 ssyrk, 5 dsyrk. */
#define LOG_SIZE 65536
long tidu_blas_log[LOG_SIZE][6];
double tidu_blas_log_seconds[LOG_SIZE];

static void log_call(int kind, bint m, bint n, bint k, int ta, int tb, double secs) {
    long i = tidu_blas_calls % LOG_SIZE;
    tidu_blas_log[i][0] = kind;
    tidu_blas_log[i][1] = m;
    tidu_blas_log[i][2] = n;
    tidu_blas_log[i][3] = k;
    tidu_blas_log[i][4] = ta;
    tidu_blas_log[i][5] = tb;
    tidu_blas_log_seconds[i] = secs;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *real(const char *name) {
    static void *lib;
    if (!lib) {
        const char *path = getenv("TIDU_BLAS_LIB");
        lib = path ? dlopen(path, RTLD_NOW | RTLD_NOLOAD) : NULL;
        if (!lib) {
            fprintf(stderr, "blas_timer: TIDU_BLAS_LIB (%s) is not loaded\n", path ? path : "unset");
            abort();
        }
    }
    void *f = dlsym(lib, name);
    if (!f) {
        fprintf(stderr, "blas_timer: %s not found in %s\n", name, getenv("TIDU_BLAS_LIB"));
        abort();
    }
    return f;
}

#define COUNT(call, flops, kind, m, n, k, ta, tb)   \
    do {                                            \
        double t0 = now();                          \
        call;                                       \
        double dt = now() - t0;                     \
        log_call(kind, m, n, k, ta, tb, dt);        \
        tidu_blas_seconds += dt;                    \
        tidu_blas_flops += (flops);                 \
        tidu_blas_calls += 1;                       \
    } while (0)

#define GEMM(NAME, T, KIND)                                                                    \
    typedef void (*NAME##_t)(int, int, int, bint, bint, bint, T, const T *, bint,          \
                             const T *, bint, T, T *, bint);                               \
    void NAME(int o, int ta, int tb, bint m, bint n, bint k, T alpha, const T *a,          \
              bint lda, const T *b, bint ldb, T beta, T *c, bint ldc) {                    \
        static NAME##_t f;                                                                 \
        if (!f) f = (NAME##_t)real(#NAME);                                                 \
        COUNT(f(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),                  \
              2.0 * (double)m * (double)n * (double)k, KIND, m, n, k, ta, tb);             \
    }

#define GEMV(NAME, T, KIND)                                                                    \
    typedef void (*NAME##_t)(int, int, bint, bint, T, const T *, bint, const T *, bint, T, \
                             T *, bint);                                                   \
    void NAME(int o, int ta, bint m, bint n, T alpha, const T *a, bint lda, const T *x,    \
              bint incx, T beta, T *y, bint incy) {                                        \
        static NAME##_t f;                                                                 \
        if (!f) f = (NAME##_t)real(#NAME);                                                 \
        COUNT(f(o, ta, m, n, alpha, a, lda, x, incx, beta, y, incy),                       \
              2.0 * (double)m * (double)n, KIND, m, n, 1, ta, 0);                          \
    }

#define SYRK(NAME, T, KIND)                                                                    \
    typedef void (*NAME##_t)(int, int, int, bint, bint, T, const T *, bint, T, T *, bint); \
    void NAME(int o, int uplo, int tr, bint n, bint k, T alpha, const T *a, bint lda,      \
              T beta, T *c, bint ldc) {                                                    \
        static NAME##_t f;                                                                 \
        if (!f) f = (NAME##_t)real(#NAME);                                                 \
        COUNT(f(o, uplo, tr, n, k, alpha, a, lda, beta, c, ldc),                           \
              2.0 * (double)n * (double)n * (double)k, KIND, n, n, k, tr, uplo);           \
    }

GEMM(scipy_cblas_sgemm64_, float, 0)
GEMM(scipy_cblas_dgemm64_, double, 1)
GEMV(scipy_cblas_sgemv64_, float, 2)
GEMV(scipy_cblas_dgemv64_, double, 3)
SYRK(scipy_cblas_ssyrk64_, float, 4)
SYRK(scipy_cblas_dsyrk64_, double, 5)
