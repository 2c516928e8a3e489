// OpenBLAS's CBLAS interface plus its runtime queries (openblas_get_corename,
// openblas_set_num_threads). No wrappers: Swift imports these directly.
#include <cblas.h>
