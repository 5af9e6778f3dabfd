/* registry.c — the backends compiled into this build: the one place that asks which. A new
 * backend (CUDA, say) is its folder, its table, and one line here. */
#include "core/core.h"

#ifdef FOVEA_HAVE_DNNL
extern const fv_backend_ops fv_onednn_backend;
#endif

const fv_backend_ops *fv_backend_ops_for(fv_backend backend) {
    switch (backend) {
#ifdef FOVEA_HAVE_DNNL
    case FV_BACKEND_ONEDNN: return &fv_onednn_backend;
#endif
    default: return NULL; /* the reference kernels live in the layers themselves */
    }
}

const char *fv_backend_name(fv_backend backend) { return backend == FV_BACKEND_ONEDNN ? "onednn" : "reference"; }
