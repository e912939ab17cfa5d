/* The chain x = tanh(x * a + b), by hand: the floor of the replay rows.

   chain_value: the forward loop. chain_value_and_grad: the forward loop keeping every x,
   then the reverse loop with the same operations, in the same order, as a reverse sweep
   of the recorded program: d tanh = 1 - t * t, the add passes its adjoint on unchanged,
   the multiply's adjoints are g * a and g * x. Built by benchmarks/cfloor.py with the
   system compiler at -O2 (no machine-specific flags), loaded with ctypes. */
#include <math.h>

double chain_value(double a, double b, double x, long repeats)
{
    for (long k = 0; k < repeats; k++)
        x = tanh(x * a + b);
    return x;
}

/* xs: repeats + 1 doubles of scratch; grad: d/da, d/db, d/dx0. Returns the value. */
double chain_value_and_grad(double a, double b, double x0, long repeats, double *xs,
                            double *grad)
{
    double ga = 0.0, gb = 0.0, gx = 1.0, g, t;
    xs[0] = x0;
    for (long k = 0; k < repeats; k++)
        xs[k + 1] = tanh(xs[k] * a + b);
    for (long k = repeats - 1; k >= 0; k--) {
        t = xs[k + 1];
        g = gx * (1.0 - t * t);     /* through tanh */
        gb += g;                    /* through + b */
        ga += g * xs[k];            /* through x * a */
        gx = g * a;
    }
    grad[0] = ga;
    grad[1] = gb;
    grad[2] = gx;
    return xs[repeats];
}
