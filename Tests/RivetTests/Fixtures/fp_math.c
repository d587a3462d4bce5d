/* libm through the guest's own glibc: sin, cos, tan, exp, log, pow and friends on a spread of
 * arguments (tiny, huge, negative, special values), double and float, printed with %a so every
 * bit of each result shows. The library's range reduction and polynomial code exercises fused
 * multiply-add, conversions and rounding the way real programs do. */
#include <math.h>
#include <stdio.h>

static const double args[] = {
    0.0, -0.0, 1e-300, 0.5, 1.0, -1.0, 2.0, 3.14159265358979323846, 10.0, -37.5, 100.25,
    1e10, 1e22, 1e300, INFINITY, -INFINITY, NAN,
};
#define NA (sizeof args / sizeof args[0])

typedef double (*fn1)(double);
typedef float (*fn1f)(float);

static void table(const char *name, fn1 f) {
    for (unsigned k = 0; k < NA; k++) {
        /* volatile: the call must happen at run time, in the guest. */
        volatile double x = args[k];
        double y = f(x);
        printf("%s(%a) = %a\n", name, x, y);
    }
}

static void tablef(const char *name, fn1f f) {
    for (unsigned k = 0; k < NA; k++) {
        volatile float x = (float)args[k];
        float y = f(x);
        printf("%s(%a) = %a\n", name, (double)x, (double)y);
    }
}

int main(void) {
    table("sin", sin);
    table("cos", cos);
    table("tan", tan);
    table("exp", exp);
    table("log", log);
    table("log2", log2);
    table("log10", log10);
    table("sqrt", sqrt);
    table("cbrt", cbrt);
    table("atan", atan);
    table("tanh", tanh);
    table("expm1", expm1);
    table("log1p", log1p);
    tablef("sinf", sinf);
    tablef("cosf", cosf);
    tablef("expf", expf);
    tablef("logf", logf);
    tablef("sqrtf", sqrtf);
    static const double bases[] = {0.0, -0.0, 0.5, -2.0, 2.0, 10.0, 1.0000001, INFINITY, NAN};
    static const double exps[] = {0.0, 0.5, -1.0, 3.0, 0.3333333333333333, 1e3, -1e3, INFINITY, NAN};
    for (unsigned i = 0; i < sizeof bases / sizeof bases[0]; i++)
        for (unsigned j = 0; j < sizeof exps / sizeof exps[0]; j++) {
            volatile double b = bases[i], e = exps[j];
            printf("pow(%a, %a) = %a\n", b, e, pow(b, e));
        }
    for (unsigned i = 0; i < 5; i++) {
        volatile double a = args[i + 3], b = args[i + 6];
        printf("atan2(%a, %a) = %a  hypot = %a  fmod = %a  fma(a,b,-1) = %a\n", a, b, atan2(a, b),
               hypot(a, b), fmod(b, a), fma(a, b, -1.0));
    }
    volatile float pf = 1.5f, qf = 7.25f;
    printf("powf = %a  atan2f = %a  fmaf = %a\n", (double)powf(pf, qf), (double)atan2f(pf, qf),
           (double)fmaf(pf, qf, -10.0f));
    volatile double big = 1e308, small = 4.9e-324;
    printf("ldexp = %a  frexp-ish = %a  nextafter = %a  trunc = %a  round = %a\n", ldexp(small, 1074),
           logb(big), nextafter(1.0, 2.0), trunc(-2.7), round(-2.5));
    printf("lround(2.5) = %ld  llrint(-3.5) = %lld  floor(-0.5) = %a  ceil(-0.5) = %a\n", lround(2.5),
           llrint(-3.5), floor(-0.5), ceil(-0.5));
    return 0;
}
