/* plan.c — planning a network for a batch size and a purpose (training, inspection,
 * inference): every buffer is allocated here, once, and each node gets its kernel — a backend's
 * when the backend supports the node, else the layer's reference kernel.
 *
 * Inference reuses memory: each node output gets an offset in one block so that two outputs
 * share bytes only if they are never needed at the same time (a node's output lives from its
 * own step to its last reader's). Offsets are assigned largest output first, each at the
 * lowest offset free of every overlapping lifetime already placed (the greedy-by-size
 * strategy of TFLite's and ggml's planners); a chain then needs about two of its largest
 * activations, and residual and concat branches stay alive exactly as long as they are read. */
#include "core/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fv_plan_mode_name(fv_plan_mode mode) {
    return mode == FV_PLAN_INFERENCE ? "inference" : mode == FV_PLAN_INSPECTION ? "inspection" : "training";
}

void fv_net_release_plan(fv_net *net) {
    const fv_backend_ops *ops = net->batch ? fv_backend_ops_for(net->backend) : NULL;
    for (int i = 0; i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        if (node->kernel && node->kernel->release) node->kernel->release(node->kernel_state);
        node->kernel = NULL, node->kernel_state = NULL;
        node->out = node->grad = node->pre_grad = node->logits = NULL;
        node->scratch = NULL;
        memset(node->cast, 0, sizeof node->cast);
        node->narrow_out = 0, node->narrow_scale = 0.0f;
        memset(node->narrow_in, 0, sizeof node->narrow_in);
        memset(node->narrow_in_scale, 0, sizeof node->narrow_in_scale);
        memset(&node->sum, 0, sizeof node->sum);
        node->summed_by = 0;
    }
    if (ops && net->engine) ops->close(net->engine);
    net->engine = NULL;
    free(net->grad_block);
    free(net->act_block);
    free(net->act_grad_block);
    free(net->scratch_block);
    free(net->grad_written);
    free(net->cast_block);
    net->cast_block = NULL;
    for (int i = 0; i < FV_MAX_INPUTS; i++) free(net->temp_grad[i]), net->temp_grad[i] = NULL;
    net->grad_block = net->act_block = net->act_grad_block = NULL;
    net->scratch_block = net->grad_written = NULL;
    net->batch = 0;
}

static size_t floats_of(const fv_node *node, int batch) {
    return fv_align_up((size_t)batch * fv_shape_count(node->out_shape), FV_ALIGN / sizeof(float));
}

static size_t scratch_of(const fv_node *node, int batch) {
    return fv_align_up(node->scratch_per_sample * (size_t)batch + node->scratch_fixed, FV_ALIGN);
}

/* A bf16 or int8 plan's room for the operands of one node's products (fv_step's cast), in
 * floats per slot: in[0], in[1] or the weights, and (bf16 with gradients) d_out. The slots of
 * every node share one block: only the running node's are live. */
static void cast_floats(const fv_net *net, const fv_node *node, int batch, fv_plan_mode mode, fv_precision precision, size_t *slot) {
    memset(slot, 0, FV_CASTS * sizeof *slot);
    if (precision == FV_PRECISION_FP32 || !fv_op_for(node->layer.kind)->products) return;
    slot[FV_CAST_IN] = floats_of(&net->nodes[node->inputs[0]], batch);
    slot[FV_CAST_OTHER] = node->n_inputs > 1 ? floats_of(&net->nodes[node->inputs[1]], batch)
                                             : fv_align_up(node->n_params ? node->params[0].count : 0, FV_ALIGN / sizeof(float));
    slot[FV_CAST_D_OUT] = mode == FV_PLAN_INFERENCE || precision != FV_PRECISION_BF16 ? 0 : floats_of(node, batch);
}

static size_t cast_block_floats(const fv_net *net, int batch, fv_plan_mode mode, fv_precision precision) {
    size_t most = 0, slot[FV_CASTS];
    for (int i = 1; i < net->n_nodes; i++) {
        cast_floats(net, &net->nodes[i], batch, mode, precision, slot);
        size_t sum = slot[0] + slot[1] + slot[2];
        most = sum > most ? sum : most;
    }
    return most;
}

/* Inspection plans give a fused non-linear activation (conv, dense) its own buffer for
 * d(pre-activation), so the node's gradient stays d(output): Grad-CAM's formula reads that. */
static int keeps_pre_grad(const fv_node *node, fv_plan_mode mode) {
    float alpha;
    return mode == FV_PLAN_INSPECTION && node->layer.kind != FV_LAYER_ACTIVATION &&
           fv_node_activation(node, &alpha) != FV_ACT_LINEAR;
}

/* The output node keeps its pre-activation for the fused losses when it ends in softmax/sigmoid. */
static size_t logit_floats(const fv_net *net, int batch) {
    const fv_node *last = &net->nodes[net->n_nodes - 1];
    float alpha;
    fv_activation act = fv_node_activation(last, &alpha);
    return act == FV_ACT_SOFTMAX || act == FV_ACT_SIGMOID ? floats_of(last, batch) : 0;
}

static int summing_conv(const fv_net *net, int add);

/* Inference offsets (in floats, into the activation block) of every node's output and, at
 * offset[n], of the output's logits (when it keeps them); returns the block's size, or
 * (size_t)-1 when out of memory. A buffer lives from the step that writes it to the last step
 * that reads it; the output and its logits to the end (the caller and the losses read them).
 * share (NULL: none): per node, an earlier node whose buffer it takes over, or -1 (plan.c's
 * share_sum_buffers): the two are placed as one buffer, living as long as both. */
static size_t inference_offsets(const fv_net *net, int batch, size_t *offset, const int *share) {
    int n = net->n_nodes, items = n + 1;
    int *birth = malloc((size_t)items * sizeof *birth), *last_use = malloc((size_t)items * sizeof *last_use);
    int *order = malloc((size_t)items * sizeof *order);
    size_t *size = malloc((size_t)items * sizeof *size), total = 0;
    if (!birth || !last_use || !order || !size) {
        free(birth), free(last_use), free(order), free(size);
        return (size_t)-1;
    }
    for (int i = 0; i < n; i++) birth[i] = last_use[i] = i, size[i] = floats_of(&net->nodes[i], batch);
    for (int i = 0, a; i < n; i++) /* a sum its convolution may write (fuse_sums) */
        if ((a = summing_conv(net, i)) >= 0) birth[i] = a;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < net->nodes[i].n_inputs; j++) {
            int src = net->nodes[i].inputs[j];
            if (last_use[src] < i) last_use[src] = i;
        }
    last_use[n - 1] = n;
    birth[n] = n - 1, last_use[n] = n, size[n] = logit_floats(net, batch);
    int *root = share ? malloc((size_t)n * sizeof *root) : NULL; /* the node whose buffer each one is placed in */
    if (share && !root) {
        free(birth), free(last_use), free(order), free(size);
        return (size_t)-1;
    }
    for (int i = 0; root && i < n; i++) {
        root[i] = share[i] >= 0 ? root[share[i]] : i;
        if (root[i] != i) last_use[root[i]] = last_use[i] > last_use[root[i]] ? last_use[i] : last_use[root[i]], size[i] = 0;
    }
    /* largest first (a stable insertion sort: ties keep graph order) */
    for (int i = 0; i < items; i++) order[i] = i;
    for (int i = 1; i < items; i++)
        for (int k = i; k > 0 && size[order[k]] > size[order[k - 1]]; k--) {
            int t = order[k];
            order[k] = order[k - 1], order[k - 1] = t;
        }
    for (int a = 0; a < items; a++) {
        int i = order[a];
        size_t at = 0;
        for (int moved = 1; moved && size[i];) { /* the lowest offset clear of every placed, overlapping lifetime */
            moved = 0;
            for (int b = 0; b < a; b++) {
                int j = order[b];
                int overlap = birth[i] <= last_use[j] && birth[j] <= last_use[i];
                if (overlap && size[j] && at < offset[j] + size[j] && offset[j] < at + size[i]) at = offset[j] + size[j], moved = 1;
            }
        }
        offset[i] = at;
        total = at + size[i] > total ? at + size[i] : total;
    }
    for (int i = 0; root && i < n; i++) offset[i] = offset[root[i]];
    free(birth), free(last_use), free(order), free(size), free(root);
    return total;
}

/* The bytes of a plan; for inference, offset (n_nodes + 1 entries) receives the placements. */
static fv_status measure(const fv_net *net, int batch, fv_plan_mode mode, fv_plan_memory *m, size_t *offset, fv_error *err) {
    memset(m, 0, sizeof *m);
    if (net->n_nodes == 0) return fv_fail(err, "network '%s' has no layers", net->name);
    if (batch <= 0) return fv_fail(err, "batch size must be positive, got %d", batch);
    size_t acts = 0, pre_grads = 0, scratch = 0;
    for (int i = 0; i < net->n_nodes; i++) {
        size_t f = floats_of(&net->nodes[i], batch);
        acts += f;
        pre_grads += keeps_pre_grad(&net->nodes[i], mode) ? f : 0;
        m->largest_activation = f * sizeof(float) > m->largest_activation ? f * sizeof(float) : m->largest_activation;
        scratch += scratch_of(&net->nodes[i], batch);
    }
    m->parameters = net->param_floats * sizeof(float);
    m->scratch = scratch + cast_block_floats(net, batch, mode, net->precision) * sizeof(float);
    if (mode == FV_PLAN_INFERENCE) {
        size_t block = inference_offsets(net, batch, offset, NULL);
        if (block == (size_t)-1) return fv_fail(err, "out of memory planning '%s'", net->name);
        m->activations = block * sizeof(float);
        return FV_OK;
    }
    m->parameter_grads = m->parameters;
    m->activations = (acts + logit_floats(net, batch)) * sizeof(float);
    m->activation_grads = m->activations + pre_grads * sizeof(float);
    return FV_OK;
}

fv_status fv_net_plan_memory(const fv_net *net, int batch, fv_plan_mode mode, fv_plan_memory *m, fv_error *err) {
    size_t *offset = mode == FV_PLAN_INFERENCE && net->n_nodes ? malloc(((size_t)net->n_nodes + 1) * sizeof *offset) : NULL;
    if (mode == FV_PLAN_INFERENCE && net->n_nodes && !offset) return fv_fail(err, "out of memory planning '%s'", net->name);
    fv_status st = measure(net, batch, mode, m, offset, err);
    free(offset);
    return st;
}

/* The narrow types (fv_narrow bits) in which the node's kernel can read input `slot` (>= 0), or
 * write its output (-1). */
static int narrow_types(const fv_node *node, fv_precision precision, int slot) {
    return node->kernel && node->kernel->narrow ? node->kernel->narrow(node, precision, slot) : 0;
}

/* int8: the scale of node `src`'s int8 values. With an output scale of its own (an add's), that
 * one, when every reader that has an input scale has that one; else the input scale every reader
 * shares, or 0 when they differ (or one has none). A reader that keeps the type (max pooling)
 * counts with the scale its own readers share. */
static float readers_scale(const fv_net *net, int src) {
    float own = fv_layer_output_scale(&net->nodes[src].layer), scale = own;
    for (int c = src + 1; c < net->n_nodes; c++)
        for (int j = 0; j < net->nodes[c].n_inputs; j++) {
            if (net->nodes[c].inputs[j] != src) continue;
            const fv_node *reader = &net->nodes[c];
            float s = reader->kernel && reader->kernel->narrow_same ? readers_scale(net, c) : fv_layer_input_scale(&reader->layer);
            if (own > 0.0f && s <= 0.0f) continue; /* reads the quantised sum, whatever its scale */
            if (s <= 0.0f || (scale > 0.0f && s != scale)) return 0.0f;
            scale = s;
        }
    return scale;
}

/* bf16 and int8 inference plans: which outputs are kept narrow between layers, and in which type.
 * A value may pass in a type when the kernel that writes it can write it and every kernel that
 * reads it can read it (never the network's input or output, which callers read as floats); in
 * int8 only when its readers also share one input scale, which the writer quantises with
 * (narrow_scale), or when it is an add's quantised sum (its own output scale, which every reader
 * with an input scale shares). A kernel with narrow_same (pooling) has both sides in the same type or
 * neither. Starting from every candidate type and only ever clearing, the largest consistent
 * sets; each value then takes the narrowest type left to it (int8, then bf16). The bf16 values
 * each reader sees are rounded to bf16, as a product's operands already are in bf16 plans
 * (docs/ARCHITECTURE.md, Precision); int8 values are what each reader would have quantised. */
static void narrow_edges(fv_net *net, fv_precision precision) {
    int n = net->n_nodes;
    for (int i = 0; i < n; i++) { /* narrow_out holds the candidate types (bits) until the end */
        fv_node *node = &net->nodes[i];
        node->narrow_out = i > 0 && i < n - 1 ? (unsigned char)narrow_types(node, precision, -1) : 0;
        node->narrow_scale = node->narrow_out & FV_NARROW_INT8 ? readers_scale(net, i) : 0.0f;
        if (node->narrow_scale <= 0.0f) node->narrow_out &= (unsigned char)~FV_NARROW_INT8;
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (int c = 0; c < n; c++) {
            fv_node *node = &net->nodes[c];
            for (int j = 0; j < node->n_inputs; j++) {
                fv_node *src = &net->nodes[node->inputs[j]];
                unsigned char left = src->narrow_out & (unsigned char)narrow_types(node, precision, j);
                if (left != src->narrow_out) src->narrow_out = left, changed = 1;
            }
            fv_node *src = node->n_inputs ? &net->nodes[node->inputs[0]] : node;
            if (node->kernel && node->kernel->narrow_same && node->narrow_out != src->narrow_out)
                node->narrow_out = src->narrow_out = node->narrow_out & src->narrow_out, changed = 1;
        }
    }
    for (int c = 0; c < n; c++) {
        fv_node *node = &net->nodes[c];
        node->narrow_out = node->narrow_out & FV_NARROW_INT8 ? FV_NARROW_INT8 : node->narrow_out & FV_NARROW_BF16 ? FV_NARROW_BF16 : FV_NARROW_NONE;
        if (node->narrow_out != FV_NARROW_INT8) node->narrow_scale = 0.0f;
    }
    for (int c = 0; c < n; c++)
        for (int j = 0; j < net->nodes[c].n_inputs; j++) {
            const fv_node *src = &net->nodes[net->nodes[c].inputs[j]];
            net->nodes[c].narrow_in[j] = src->narrow_out, net->nodes[c].narrow_in_scale[j] = src->narrow_scale;
        }
}

/* The node an inference plan's add can have computed by the convolution before it: its later
 * input, a convolution that nothing else reads; in int8 plans only for an add with an output
 * scale (a quantised sum) and a quantised convolution; in fp32 plans never. Or -1. Memory
 * planning keeps the add's output from that convolution's step (the sum is written then), so it
 * holds for every plan that could fuse. */
static int summing_conv(const fv_net *net, int add) {
    const fv_node *b = &net->nodes[add];
    int int8 = net->precision == FV_PRECISION_INT8;
    if (net->precision == FV_PRECISION_FP32 || b->layer.kind != FV_LAYER_ADD || b->n_inputs != 2 || b->inputs[0] == b->inputs[1] ||
        (int8 && b->layer.add.output_scale <= 0.0f))
        return -1;
    int a = b->inputs[0] > b->inputs[1] ? b->inputs[0] : b->inputs[1];
    const fv_layer *l = &net->nodes[a].layer;
    if (!(l->kind == FV_LAYER_CONV1D || l->kind == FV_LAYER_CONV2D || l->kind == FV_LAYER_CONV3D) || (int8 && l->conv.input_scale <= 0.0f))
        return -1;
    for (int c = a + 1; c < net->n_nodes; c++)
        for (int j = 0; j < net->nodes[c].n_inputs; j++)
            if (net->nodes[c].inputs[j] == a && c != add) return -1;
    return a;
}

/* Inference plans, after fuse_sums: an add computed by its convolution with a sum post-op (its
 * other input of the output's type, node->sum) takes over that input's buffer when nothing reads
 * the input after the convolution starts writing: then the output already holds what is summed into it,
 * instead of a copy of it (ResNet50 at batch 16: 77 MB copied a pass, 10 ms). The placement is
 * made again with those buffers shared, and used when it fits in the block planned. */
static fv_status share_sum_buffers(fv_net *net, int batch, size_t block_floats, fv_error *err) {
    int n = net->n_nodes, any = 0;
    int *share = malloc((size_t)n * sizeof *share);
    size_t *offset = malloc(((size_t)n + 1) * sizeof *offset);
    if (!share || !offset) return free(share), free(offset), fv_fail(err, "out of memory planning '%s'", net->name);
    for (int b = 0; b < n; b++) {
        share[b] = -1;
        int a = net->nodes[b].summed_by, x = a ? net->nodes[a].sum.other : 0, alone = a > 0;
        if (!a || net->nodes[a].sum.other_type != net->nodes[a].narrow_out) continue; /* a binary post-op reads it */
        for (int c = a; c < n && alone; c++) /* x's readers from the convolution on: only the add */
            for (int j = 0; j < net->nodes[c].n_inputs; j++) alone &= net->nodes[c].inputs[j] != x || c == b;
        if (alone) share[b] = x, any = 1;
    }
    size_t total = any ? inference_offsets(net, batch, offset, share) : 0;
    if (total == (size_t)-1) return free(share), free(offset), fv_fail(err, "out of memory planning '%s'", net->name);
    if (any && total <= block_floats) {
        for (int i = 0; i < n; i++) net->nodes[i].out = net->act_block + offset[i];
        if (net->nodes[n - 1].logits) net->nodes[n - 1].logits = net->act_block + offset[n];
    }
    free(share), free(offset);
    return FV_OK;
}

/* bf16 and int8 inference plans: each add that its summing convolution's kernel can compute (the
 * ReLU as a post-op, the other input added as it comes) is computed by it: one pass where the
 * convolution would write its output, the add read it and its other input and write the sum. In
 * int8 the sum is quantised (an output scale), written as int8, where the convolution would
 * write bf16 and a reorder quantise the add's bf16 sum for the next convolutions; in bf16 only
 * where the other input is bf16 too (a sum post-op, adding what the output holds). */
static void fuse_sums(fv_net *net, fv_precision precision) {
    for (int i = 0; i < net->n_nodes; i++) {
        fv_node *b = &net->nodes[i];
        int a = summing_conv(net, i), other = a >= 0 && b->inputs[0] == a ? 1 : 0;
        unsigned char out = precision == FV_PRECISION_INT8 ? FV_NARROW_INT8 : FV_NARROW_BF16;
        if (a < 0 || !b->kernel || !b->kernel->summed || b->narrow_out != out ||
            (precision == FV_PRECISION_BF16 && b->narrow_in[other] != FV_NARROW_BF16))
            continue;
        fv_node *conv = &net->nodes[a];
        fv_activation act = b->layer.add.activation;
        if (!conv->kernel || !conv->kernel->sums || !conv->kernel->sums(conv, precision, act)) continue;
        conv->sum.add = i, conv->sum.other = b->inputs[other], conv->sum.activation = act;
        conv->sum.other_type = b->narrow_in[other], conv->sum.other_scale = b->narrow_in_scale[other];
        conv->narrow_out = b->narrow_out, conv->narrow_scale = b->narrow_scale; /* what it writes */
        b->summed_by = a;
    }
}

/* Each node's kernel: the backend's for its kind when it supports the node, else the reference;
 * then, knowing every node's kernel, which values pass between them narrow; then each plans. */
static fv_status choose_kernels(fv_net *net, const fv_backend_ops *ops, fv_error *err) {
    fv_plan_options opt = {.batch = net->batch, .mode = net->mode, .precision = net->planned_precision,
                           .replicas = net->comm ? net->comm->size : 1};
    for (int i = 0; ops && i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        for (int k = 0; k < ops->n_kernels && !node->kernel; k++) {
            const fv_kernel *kernel = ops->kernels[k];
            if (kernel->kind == node->layer.kind && kernel->supports(node, &opt)) node->kernel = kernel;
        }
    }
    if (ops && opt.mode == FV_PLAN_INFERENCE && opt.precision != FV_PRECISION_FP32) narrow_edges(net, opt.precision);
    if (ops && opt.mode == FV_PLAN_INFERENCE && opt.precision != FV_PRECISION_FP32) fuse_sums(net, opt.precision);
    for (int i = 0; ops && i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        if (!node->kernel) continue;
        fv_error why;
        if (node->kernel->plan(node, net->engine, &opt, &node->kernel_state, &why) != FV_OK) {
            node->kernel = NULL; /* no state to release */
            for (int k = i + 1; k < net->n_nodes; k++) net->nodes[k].kernel = NULL;
            return fv_fail(err, "layer '%s': %s", node->name, why.message);
        }
    }
    return FV_OK;
}

fv_status fv_net_plan_mode(fv_net *net, int batch, fv_backend backend, fv_plan_mode mode, uint64_t seed, fv_error *err) {
    net->weights_version++;
    if (!fv_backend_available(backend))
        return fv_fail(err, "backend '%s' is not compiled into this build of fovea", fv_backend_name(backend));
    if (net->precision == FV_PRECISION_INT8 && mode == FV_PLAN_TRAINING)
        return fv_fail(err, "'%s' is set to int8, post-training quantisation, which does not train: train in fp32 or bf16, then quantise",
                       net->name);
    fv_plan_memory m;
    size_t *offset = calloc((size_t)net->n_nodes + 1, sizeof *offset); /* inference placements */
    if (!offset) return fv_fail(err, "out of memory planning '%s'", net->name);
    if (measure(net, batch, mode, &m, offset, err) != FV_OK) return free(offset), FV_ERR;
    int n = net->n_nodes, training = mode != FV_PLAN_INFERENCE, max_inputs = 0;
    /* backward's temporary gradient of input slot j (a value read twice is summed from there):
     * as large as the largest j-th input of any node, not the largest activation times 64 */
    size_t slot_floats[FV_MAX_INPUTS] = {0}, slots_total = 0;
    for (int i = 0; training && i < n; i++) {
        const fv_node *node = &net->nodes[i];
        max_inputs = node->n_inputs > max_inputs ? node->n_inputs : max_inputs;
        for (int j = 0; j < node->n_inputs; j++) {
            size_t f = floats_of(&net->nodes[node->inputs[j]], batch);
            slot_floats[j] = f > slot_floats[j] ? f : slot_floats[j];
        }
    }
    for (int j = 0; j < max_inputs; j++) slots_total += slot_floats[j] * sizeof(float);
    /* every block is zeroed as it is allocated: a plan larger than the memory left would push the
     * machine into swap (or the OOM killer) before failing, so it is refused up front */
    double grads = training ? (double)m.parameter_grads + (double)m.activation_grads + (double)slots_total : 0.0;
    double need = (double)m.activations + (double)m.scratch + grads;
    size_t avail = fv_memory_available();
    if (avail != SIZE_MAX && need > (double)avail) {
        free(offset);
        return fv_fail(err, "planning '%s' for batch %d needs %.2f GB (activations %.2f, gradients %.2f, work space %.2f), more than the %.2f GB "
                       "of memory available: use a smaller batch", net->name, batch, need / 1e9, (double)m.activations / 1e9, grads / 1e9,
                       (double)m.scratch / 1e9, (double)avail / 1e9);
    }
    fv_net_release_plan(net);
    if (fv_net_init_params(net, seed, err) != FV_OK) return free(offset), FV_ERR;
    fv_net_reseed(net, seed);

    size_t logits = logit_floats(net, batch);
    size_t cast = cast_block_floats(net, batch, mode, net->precision) * sizeof(float);
    net->act_block = fv_alloc_aligned(m.activations);
    net->scratch_block = fv_alloc_aligned(m.scratch - cast);
    net->cast_block = cast ? fv_alloc_aligned(cast) : NULL;
    int ok = net->act_block && net->scratch_block && (!cast || net->cast_block);
    if (ok && training) {
        net->grad_block = fv_alloc_aligned(m.parameter_grads);
        net->act_grad_block = fv_alloc_aligned(m.activation_grads);
        net->grad_written = calloc((size_t)n, 1);
        ok = net->grad_block && net->act_grad_block && net->grad_written;
        for (int j = 0; j < max_inputs && ok; j++) ok = (net->temp_grad[j] = fv_alloc_aligned(slot_floats[j] * sizeof(float))) != NULL;
    }
    if (!ok) {
        free(offset);
        fv_net_release_plan(net);
        return fv_fail(err, "out of memory planning '%s' for batch %d (%zu bytes of activations)", net->name, batch, m.activations);
    }
    size_t act_at = logits, pre_at = m.activations / sizeof(float), scratch_at = 0; /* pre_grads follow the grads */
    net->nodes[n - 1].logits = !logits ? NULL : training ? net->act_block : net->act_block + offset[n];
    for (int i = 0; i < n; i++) {
        fv_node *node = &net->nodes[i];
        if (training) {
            node->out = net->act_block + act_at;
            node->grad = net->act_grad_block + act_at;
            act_at += floats_of(node, batch);
            if (keeps_pre_grad(node, mode)) node->pre_grad = net->act_grad_block + pre_at, pre_at += floats_of(node, batch);
        } else {
            node->out = net->act_block + offset[i];
        }
        node->scratch = net->scratch_block + scratch_at;
        scratch_at += scratch_of(node, batch);
        size_t slot[FV_CASTS], at = 0;
        cast_floats(net, node, batch, mode, net->precision, slot);
        for (int k = 0; k < FV_CASTS; k++) node->cast[k] = slot[k] ? (float *)net->cast_block + at : NULL, at += slot[k];
    }
    free(offset);
    net->batch = batch, net->backend = backend, net->mode = mode, net->planned_precision = net->precision;
    net->want_input_grad = mode != FV_PLAN_INFERENCE;
    const fv_backend_ops *ops = fv_backend_ops_for(backend);
    if ((ops && ops->open(&net->engine, err) != FV_OK) || choose_kernels(net, ops, err) != FV_OK ||
        (mode == FV_PLAN_INFERENCE && share_sum_buffers(net, batch, m.activations / sizeof(float), err) != FV_OK)) {
        fv_net_release_plan(net);
        return FV_ERR;
    }
    return FV_OK;
}

fv_status fv_net_plan(fv_net *net, int batch, fv_backend backend, uint64_t seed, fv_error *err) {
    return fv_net_plan_mode(net, batch, backend, FV_PLAN_TRAINING, seed, err);
}

int fv_net_batch(const fv_net *net) { return net->batch; }
fv_backend fv_net_backend(const fv_net *net) { return net->batch ? net->backend : fv_backend_default(); }
fv_plan_mode fv_net_mode(const fv_net *net) { return net->mode; }
