/* matmul.c — the matrix product of two computed tensors over their last two axes, the axes before
 * them (after the batch) broadcast as NumPy's matmul does: attention's scores q k^T and their
 * weighted sum of values. a (N, ..., M, K) times b (N, ..., K, P) is y (N, ..., M, P). */
#include "core/core.h"

#include <string.h>

void fv_matmul_plan_of(const fv_node *node, fv_matmul_plan *g) {
    const fv_shape *a = &node->in_shape[0], *b = &node->in_shape[1], *y = &node->out_shape;
    g->m = a->dim[a->rank - 2], g->k = a->dim[a->rank - 1], g->p = b->dim[b->rank - 1];
    int slots = FV_MAX_RANK - 2;
    for (int s = 0; s < slots; s++) {
        int ky = s - (slots - (y->rank - 2));
        g->lead[s] = ky >= 0 ? y->dim[ky] : 1;
    }
    const fv_shape *in[2] = {a, b};
    for (int i = 0; i < 2; i++) /* the leading axes, in steps of a whole matrix */
        fv_broadcast_strides(in[i], in[i]->rank - 2, slots, (size_t)in[i]->dim[in[i]->rank - 2] * (size_t)in[i]->dim[in[i]->rank - 1], g->step[i]);
}

static fv_status matmul_infer(fv_node *node, fv_error *err) {
    const fv_shape *a = &node->in_shape[0], *b = &node->in_shape[1];
    if (a->rank < 2 || b->rank < 2) return fv_fail(err, "inputs need two axes after the batch (matrices), got ranks %d and %d", a->rank, b->rank);
    if (a->dim[a->rank - 1] != b->dim[b->rank - 2])
        return fv_fail(err, "(.., %d, %d) times (.., %d, %d): the inner sizes differ", a->dim[a->rank - 2], a->dim[a->rank - 1],
                       b->dim[b->rank - 2], b->dim[b->rank - 1]);
    fv_shape out = {0, {0}};
    int k = fv_broadcast_dims(a, a->rank - 2, b, b->rank - 2, &out); /* the axes before the matrices */
    if (k) {
        int da = k <= a->rank - 2 ? a->dim[a->rank - 2 - k] : 1, db = k <= b->rank - 2 ? b->dim[b->rank - 2 - k] : 1;
        return fv_fail(err, "the axes before the matrices do not broadcast (%d and %d)", da, db);
    }
    out.dim[out.rank++] = a->dim[a->rank - 2], out.dim[out.rank++] = b->dim[b->rank - 1];
    node->out_shape = out;
    return FV_OK;
}

/* a (N, .., M, K) x b (N, .., K, P) -> y (N, .., M, P), one matrix product per sample and per
 * position of the broadcast axes */
static void matmul_forward(const fv_node *node, const fv_step *s) {
    fv_matmul_plan g;
    fv_matmul_plan_of(node, &g);
    size_t per_a = fv_shape_count(node->in_shape[0]), per_b = fv_shape_count(node->in_shape[1]), per_y = fv_shape_count(node->out_shape);
    const float *in0 = fv_step_operand(s, FV_CAST_IN, s->in[0], (size_t)s->batch * per_a);
    const float *in1 = fv_step_operand(s, FV_CAST_OTHER, s->in[1], (size_t)s->batch * per_b);
    for (int n = 0; n < s->batch; n++)
        for (int l0 = 0; l0 < g.lead[0]; l0++)
            for (int l1 = 0; l1 < g.lead[1]; l1++) {
                const float *a = in0 + (size_t)n * per_a + l0 * g.step[0][0] + l1 * g.step[0][1];
                const float *b = in1 + (size_t)n * per_b + l0 * g.step[1][0] + l1 * g.step[1][1];
                float *y = s->out + (size_t)n * per_y + ((size_t)l0 * g.lead[1] + l1) * (size_t)g.m * g.p;
                for (int i = 0; i < g.m; i++) {
                    float *row = y + (size_t)i * g.p;
                    for (int j = 0; j < g.p; j++) row[j] = 0.0f;
                    for (int k = 0; k < g.k; k++) {
                        float v = a[(size_t)i * g.k + k];
                        const float *brow = b + (size_t)k * g.p;
                        for (int j = 0; j < g.p; j++) row[j] += v * brow[j];
                    }
                }
            }
}

/* da += dy b^T, db += a^T dy, summed where an input was broadcast */
static void matmul_backward(const fv_node *node, const fv_step *s) {
    fv_matmul_plan g;
    fv_matmul_plan_of(node, &g);
    size_t per_a = fv_shape_count(node->in_shape[0]), per_b = fv_shape_count(node->in_shape[1]), per_y = fv_shape_count(node->out_shape);
    for (int i = 0; i < 2; i++)
        if (s->d_in[i]) memset(s->d_in[i], 0, (size_t)s->batch * (i ? per_b : per_a) * sizeof(float));
    const float *in0 = fv_step_operand(s, FV_CAST_IN, s->in[0], (size_t)s->batch * per_a);
    const float *in1 = fv_step_operand(s, FV_CAST_OTHER, s->in[1], (size_t)s->batch * per_b);
    const float *d_out = fv_step_operand(s, FV_CAST_D_OUT, s->d_out, (size_t)s->batch * per_y);
    for (int n = 0; n < s->batch; n++)
        for (int l0 = 0; l0 < g.lead[0]; l0++)
            for (int l1 = 0; l1 < g.lead[1]; l1++) {
                size_t oa = (size_t)n * per_a + l0 * g.step[0][0] + l1 * g.step[0][1], ob = (size_t)n * per_b + l0 * g.step[1][0] + l1 * g.step[1][1];
                const float *a = in0 + oa, *b = in1 + ob;
                const float *dy = d_out + (size_t)n * per_y + ((size_t)l0 * g.lead[1] + l1) * (size_t)g.m * g.p;
                float *da = s->d_in[0] ? s->d_in[0] + oa : NULL, *db = s->d_in[1] ? s->d_in[1] + ob : NULL;
                for (int i = 0; i < g.m; i++)
                    for (int k = 0; k < g.k; k++) {
                        const float *dyrow = dy + (size_t)i * g.p, *brow = b + (size_t)k * g.p;
                        float sum = 0.0f, av = a[(size_t)i * g.k + k];
                        for (int j = 0; j < g.p; j++) sum += dyrow[j] * brow[j];
                        if (da) da[(size_t)i * g.k + k] += sum;
                        if (db)
                            for (int j = 0; j < g.p; j++) db[(size_t)k * g.p + j] += av * dyrow[j];
                    }
            }
}

const fv_op fv_op_matmul = {
    .kind = FV_LAYER_MATMUL, .word = "matmul", .type_name = "MatMul",
    .help = "matrix product of two inputs over their last two axes (attention)", .min_inputs = 2, .max_inputs = 2,
    .infer = matmul_infer, .forward = matmul_forward, .backward = matmul_backward, .input_grad_optional = 1,
    .products = 1
};

fv_layer fv_matmul(void) { return fv_layer_defaults(FV_LAYER_MATMUL); }
