/* matmul.c — the matmul layer (attention's q k^T and its weighted sum of values) on oneDNN's
 * sgemm: one product per sample and per position of the broadcast axes, as the reference's. */
#include "backends/onednn/onednn.h"

#include <string.h>

/* The matrices of sample n at leading position (l0, l1): a, b and y's offsets. */
static void offsets(const fv_matmul_plan *g, const fv_node *node, int n, int l0, int l1, size_t *oa, size_t *ob, size_t *oy) {
    size_t per_a = fv_shape_count(node->in_shape[0]), per_b = fv_shape_count(node->in_shape[1]), per_y = fv_shape_count(node->out_shape);
    *oa = (size_t)n * per_a + l0 * g->step[0][0] + l1 * g->step[0][1];
    *ob = (size_t)n * per_b + l0 * g->step[1][0] + l1 * g->step[1][1];
    *oy = (size_t)n * per_y + ((size_t)l0 * g->lead[1] + l1) * (size_t)g->m * g->p;
}

/* a (N, .., M, K) x b (N, .., K, P) -> y (N, .., M, P) */
static fv_status matmul_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    (void)state;
    fv_matmul_plan g;
    fv_matmul_plan_of(node, &g);
    for (int n = 0; n < s->batch; n++)
        for (int l0 = 0; l0 < g.lead[0]; l0++)
            for (int l1 = 0; l1 < g.lead[1]; l1++) {
                size_t oa, ob, oy;
                offsets(&g, node, n, l0, l1, &oa, &ob, &oy);
                if (fv_onednn_sgemm('N', 'N', g.m, g.p, g.k, s->in[0] + oa, g.k, s->in[1] + ob, g.p, 0.0f, s->out + oy, g.p, err) != FV_OK)
                    return FV_ERR;
            }
    return FV_OK;
}

/* da += dy b^T, db += a^T dy, summed where an input was broadcast */
static fv_status matmul_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    (void)state;
    fv_matmul_plan g;
    fv_matmul_plan_of(node, &g);
    size_t per[2] = {fv_shape_count(node->in_shape[0]), fv_shape_count(node->in_shape[1])};
    for (int i = 0; i < 2; i++)
        if (s->d_in[i]) memset(s->d_in[i], 0, (size_t)s->batch * per[i] * sizeof(float));
    for (int n = 0; n < s->batch; n++)
        for (int l0 = 0; l0 < g.lead[0]; l0++)
            for (int l1 = 0; l1 < g.lead[1]; l1++) {
                size_t oa, ob, oy;
                offsets(&g, node, n, l0, l1, &oa, &ob, &oy);
                const float *dy = s->d_out + oy;
                if (s->d_in[0] && fv_onednn_sgemm('N', 'T', g.m, g.k, g.p, dy, g.p, s->in[1] + ob, g.p, 1.0f, s->d_in[0] + oa, g.k, err) != FV_OK)
                    return FV_ERR;
                if (s->d_in[1] && fv_onednn_sgemm('T', 'N', g.k, g.p, g.m, s->in[0] + oa, g.k, dy, g.p, 1.0f, s->d_in[1] + ob, g.p, err) != FV_OK)
                    return FV_ERR;
            }
    return FV_OK;
}

/* bf16 plans run the reference's bf16 definition: attention's products are a small share of a
 * CNN's work, and a bf16 matmul primitive per broadcast position is not written yet. */
static int matmul_supports(const fv_node *node, const fv_plan_options *opt) {
    (void)node;
    return opt->precision == FV_PRECISION_FP32;
}

static fv_status matmul_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    int batch = opt->batch;
    (void)node, (void)engine, (void)batch, (void)err;
    *state = NULL;
    return FV_OK;
}

const fv_kernel fv_onednn_matmul = {.kind = FV_LAYER_MATMUL, .name = "onednn", .supports = matmul_supports, .plan = matmul_plan, .forward = matmul_forward, .backward = matmul_backward};
