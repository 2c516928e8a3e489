// zlib's gz* file API, used to read the gzip-compressed benchmark tables and IDX data sets.
#include <zlib.h>
