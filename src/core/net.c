/* net.c — the network graph: adding layers with shape inference, the parameters, and reading
 * nodes and parameters back. Nodes are kept in the order they were added, which is a
 * topological order: a node can only read earlier nodes. Planning: plan.c; running: exec.c. */
#include "core/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fv_backend_available(fv_backend backend) {
    return backend == FV_BACKEND_REFERENCE || fv_backend_ops_for(backend) != NULL;
}

fv_backend fv_backend_default(void) {
    return fv_backend_available(FV_BACKEND_ONEDNN) ? FV_BACKEND_ONEDNN : FV_BACKEND_REFERENCE;
}

fv_net *fv_net_new(const char *name, fv_error *err) {
    fv_net *net = calloc(1, sizeof *net);
    if (!net) {
        fv_fail(err, "out of memory creating a network");
        return NULL;
    }
    snprintf(net->name, sizeof net->name, "%s", name ? name : "model");
    net->want_input_grad = 1;
    return net;
}

void fv_net_free(fv_net *net) {
    if (!net) return;
    fv_net_free(net->inspection);
    fv_net_release_plan(net);
    free(net->param_block);
    free(net->nodes);
    free(net->params);
    free(net);
}

void fv_node_declare_param(fv_node *node, const char *name, int trainable, int rank, const int *dim) {
    fv_param_decl *p = &node->params[node->n_params++];
    p->name = name;
    p->trainable = trainable;
    p->rank = rank;
    p->count = 1;
    for (int i = 0; i < rank; i++) /* saturates: fv_net_add refuses a tensor that large */
        if (__builtin_mul_overflow(p->count, (size_t)dim[i], &p->count)) p->count = SIZE_MAX;
    for (int i = 0; i < rank; i++) p->dim[i] = dim[i];
}

static int name_taken(const fv_net *net, const char *name) {
    for (int i = 0; i < net->n_nodes; i++)
        if (strcmp(net->nodes[i].name, name) == 0) return 1;
    return 0;
}

/* Keras-like automatic names: conv2d_1, conv2d_2, relu_1 ... */
static void auto_name(fv_net *net, const fv_layer *layer, char *out) {
    int slot = layer->kind == FV_LAYER_ACTIVATION ? FV_LAYER_KIND_COUNT + (int)layer->activation.function
                                                   : (int)layer->kind;
    const char *base = layer->kind == FV_LAYER_ACTIVATION ? fv_activation_name(layer->activation.function)
                                                          : fv_layer_kind_name(layer->kind);
    do {
        snprintf(out, FV_NAME_MAX, "%s_%d", base, ++net->kind_counter[slot]);
    } while (name_taken(net, out));
}

int fv_net_add_from(fv_net *net, const fv_layer *layer, const char *name, const int *inputs,
                    int n_inputs, fv_error *err) {
    const fv_op *op = fv_op_for(layer->kind);
    if (!op) return fv_fail(err, "unknown layer kind %d", (int)layer->kind), -1;
    if (net->param_block)
        return fv_fail(err, "cannot add layers to '%s' after it has been planned", net->name), -1;
    if (layer->kind == FV_LAYER_INPUT && net->n_nodes > 0)
        return fv_fail(err, "the input layer must come first, and only once"), -1;
    if (layer->kind != FV_LAYER_INPUT && net->n_nodes == 0)
        return fv_fail(err, "the first layer must be an input layer (it gives the input shape)"), -1;

    fv_node node;
    memset(&node, 0, sizeof node);
    node.layer = *layer;
    if (name && *name) {
        if (strlen(name) >= FV_NAME_MAX) return fv_fail(err, "layer name '%s' is too long", name), -1;
        if (name_taken(net, name)) return fv_fail(err, "layer name '%s' is used twice", name), -1;
        snprintf(node.name, sizeof node.name, "%s", name);
    } else {
        auto_name(net, layer, node.name);
    }
    if (n_inputs < op->min_inputs || n_inputs > op->max_inputs)
        return fv_fail(err, "layer '%s' (%s) takes %d to %d inputs, got %d", node.name,
                       fv_layer_kind_name(layer->kind), op->min_inputs, op->max_inputs, n_inputs), -1;
    for (int i = 0; i < n_inputs; i++) {
        if (inputs[i] < 0 || inputs[i] >= net->n_nodes)
            return fv_fail(err, "layer '%s': input %d is not an earlier layer", node.name, inputs[i]), -1;
        node.inputs[i] = inputs[i];
        node.in_shape[i] = net->nodes[inputs[i]].out_shape;
    }
    node.n_inputs = n_inputs;

    fv_error why;
    if (op->infer(&node, &why) != FV_OK)
        return fv_fail(err, "layer '%s' (%s): %s", node.name, fv_layer_kind_name(layer->kind), why.message), -1;
    size_t per_sample = 1, params = net->param_floats;
    for (int i = 0; i < node.out_shape.rank; i++) {
        if (node.out_shape.dim[i] <= 0)
            return fv_fail(err, "layer '%s' (%s): output shape has a dimension of %d (input too small)",
                           node.name, fv_layer_kind_name(layer->kind), node.out_shape.dim[i]), -1;
        if (__builtin_mul_overflow(per_sample, (size_t)node.out_shape.dim[i], &per_sample)) per_sample = SIZE_MAX;
    }
    /* sizes from a file or a definition are checked here, before anything is allocated for them */
    if (per_sample > FV_MAX_SAMPLE_VALUES)
        return fv_fail(err, "layer '%s' (%s): an output of %zu values per sample is beyond fovea's limit (%zu)", node.name,
                       fv_layer_kind_name(layer->kind), per_sample, (size_t)FV_MAX_SAMPLE_VALUES), -1;
    for (int p = 0; p < node.n_params; p++)
        if (node.params[p].count > FV_MAX_PARAM_VALUES || __builtin_add_overflow(params, node.params[p].count, &params) ||
            params > FV_MAX_PARAM_VALUES)
            return fv_fail(err, "layer '%s' (%s): %s parameters beyond fovea's limit (%zu values)", node.name,
                           fv_layer_kind_name(layer->kind), node.params[p].count > FV_MAX_PARAM_VALUES ? "its" : "the network's",
                           (size_t)FV_MAX_PARAM_VALUES), -1;

    if (net->n_nodes == net->cap_nodes) {
        int cap = net->cap_nodes ? 2 * net->cap_nodes : 16;
        fv_node *grown = realloc(net->nodes, (size_t)cap * sizeof *grown);
        if (!grown) return fv_fail(err, "out of memory adding layer '%s'", node.name), -1;
        net->nodes = grown, net->cap_nodes = cap;
    }
    if (net->n_params + node.n_params > net->cap_params) {
        int cap = net->cap_params ? 2 * net->cap_params : 32;
        param_ref *grown = realloc(net->params, (size_t)cap * sizeof *grown);
        if (!grown) return fv_fail(err, "out of memory adding layer '%s'", node.name), -1;
        net->params = grown, net->cap_params = cap;
    }
    node.first_param = net->n_params;
    for (int p = 0; p < node.n_params; p++) {
        node.params[p].offset = net->param_floats;
        net->param_floats += fv_align_up(node.params[p].count, FV_ALIGN / sizeof(float));
        net->params[net->n_params++] = (param_ref){net->n_nodes, p};
    }
    net->nodes[net->n_nodes] = node;
    if (fv_layer_input_scale(layer) > 0.0f) net->precision = FV_PRECISION_INT8; /* a quantised model runs as it was quantised */
    return net->n_nodes++;
}

int fv_net_add(fv_net *net, const fv_layer *layer, const char *name, fv_error *err) {
    int prev = net->n_nodes - 1;
    return fv_net_add_from(net, layer, name, &prev, layer->kind == FV_LAYER_INPUT ? 0 : 1, err);
}

fv_status fv_net_init_params(fv_net *net, uint64_t seed, fv_error *err) {
    if (net->param_block) return FV_OK;
    net->param_block = fv_alloc_aligned(net->param_floats * sizeof(float));
    if (!net->param_block)
        return fv_fail(err, "out of memory for %zu parameters", net->param_floats);
    fv_rng rng;
    fv_rng_seed(&rng, seed);
    for (int i = 0; i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        const fv_op *op = fv_op_for(node->layer.kind);
        float *param[FV_MAX_PARAMS];
        for (int p = 0; p < node->n_params; p++) param[p] = net->param_block + node->params[p].offset;
        if (op->init) op->init(node, param, &rng);
    }
    return FV_OK;
}

/* ---- Reading nodes and parameters. ---- */
int fv_net_node_count(const fv_net *net) { return net->n_nodes; }
const char *fv_net_name(const fv_net *net) { return net->name; }
int fv_net_output_node(const fv_net *net) { return net->n_nodes - 1; }

int fv_net_find(const fv_net *net, const char *name) {
    for (int i = 0; i < net->n_nodes; i++)
        if (strcmp(net->nodes[i].name, name) == 0) return i;
    return -1;
}

static int valid_node(const fv_net *net, int node) { return node >= 0 && node < net->n_nodes; }

const char *fv_net_node_name(const fv_net *net, int node) { return valid_node(net, node) ? net->nodes[node].name : NULL; }
const fv_layer *fv_net_node_layer(const fv_net *net, int node) { return valid_node(net, node) ? &net->nodes[node].layer : NULL; }

fv_activation fv_net_node_activation(const fv_net *net, int node, float *alpha) {
    float a = 0.0f;
    fv_activation act = valid_node(net, node) ? fv_node_activation(&net->nodes[node], &a) : FV_ACT_LINEAR;
    if (alpha) *alpha = a;
    return act;
}

fv_shape fv_net_node_shape(const fv_net *net, int node) {
    fv_shape none = {0, {0, 0, 0, 0}};
    return valid_node(net, node) ? net->nodes[node].out_shape : none;
}

float *fv_net_node_output(fv_net *net, int node) { return valid_node(net, node) ? net->nodes[node].out : NULL; }
float *fv_net_node_grad(fv_net *net, int node) { return valid_node(net, node) ? net->nodes[node].grad : NULL; }

const char *fv_net_node_kernel(const fv_net *net, int node) {
    if (!valid_node(net, node) || !net->batch) return NULL;
    return net->nodes[node].kernel ? net->nodes[node].kernel->name : "reference";
}

const char *fv_net_node_implementation(const fv_net *net, int node) {
    if (!valid_node(net, node) || !net->batch || !net->nodes[node].kernel) return NULL;
    const fv_kernel *k = net->nodes[node].kernel;
    return k->implementation ? k->implementation(net->nodes[node].kernel_state) : NULL;
}

int fv_net_node_narrow(const fv_net *net, int node) {
    if (!valid_node(net, node) || !net->batch) return 0;
    return net->nodes[node].narrow_out == FV_NARROW_INT8 ? 8 : net->nodes[node].narrow_out == FV_NARROW_BF16 ? 16 : 0;
}

int fv_net_node_computed_by(const fv_net *net, int node) {
    return valid_node(net, node) && net->batch && net->nodes[node].summed_by ? net->nodes[node].summed_by : -1;
}

fv_status fv_net_set_input_scale(fv_net *net, int node, float scale, fv_error *err) {
    if (!valid_node(net, node)) return fv_fail(err, "'%s' has no node %d", net->name, node);
    if (!(scale >= 0.0f && scale < 1e30f)) return fv_fail(err, "an input scale must be a finite number >= 0");
    fv_layer *l = &net->nodes[node].layer;
    if (!fv_kind_quantisable(l->kind)) return fv_fail(err, "layer '%s' (%s) has no input scale: only convolutions and dense layers are quantised", net->nodes[node].name,
                        fv_layer_kind_name(l->kind));
    *(l->kind == FV_LAYER_DENSE ? &l->dense.input_scale : &l->conv.input_scale) = scale;
    fv_net_release_plan(net);
    fv_net_free(net->inspection); /* its definition is out of date */
    net->inspection = NULL;
    return FV_OK;
}

fv_precision fv_net_planned_precision(const fv_net *net) { return net->batch ? net->planned_precision : FV_PRECISION_FP32; }

int fv_net_node_inputs(const fv_net *net, int node, int *inputs, int max) {
    if (!valid_node(net, node)) return 0;
    for (int j = 0; j < net->nodes[node].n_inputs && j < max; j++) inputs[j] = net->nodes[node].inputs[j];
    return net->nodes[node].n_inputs;
}

int fv_net_param_count(const fv_net *net) { return net->n_params; }

fv_status fv_net_param_read(const fv_net *net, int index, fv_param_info *out, fv_error *err) {
    if (index < 0 || index >= net->n_params)
        return fv_fail(err, "parameter %d out of range (network has %d)", index, net->n_params);
    const fv_node *node = &net->nodes[net->params[index].node];
    const fv_param_decl *decl = &node->params[net->params[index].local];
    memset(out, 0, sizeof *out);
    out->name = decl->name;
    out->node = net->params[index].node;
    out->trainable = decl->trainable;
    out->rank = decl->rank;
    memcpy(out->dim, decl->dim, sizeof out->dim);
    out->count = decl->count;
    out->value = net->param_block ? net->param_block + decl->offset : NULL;
    out->grad = net->grad_block ? net->grad_block + decl->offset : NULL;
    return FV_OK;
}

fv_status fv_net_param(fv_net *net, int index, fv_param_info *out, fv_error *err) {
    /* the caller may write: kernels that keep the weights in a layout of their own check them
     * again at the next forward */
    if (index >= 0 && index < net->n_params) net->weights_version++;
    return fv_net_param_read(net, index, out, err);
}

int fv_net_find_param(const fv_net *net, int node, const char *name) {
    if (!valid_node(net, node)) return -1;
    const fv_node *n = &net->nodes[node];
    for (int p = 0; p < n->n_params; p++)
        if (strcmp(n->params[p].name, name) == 0) return n->first_param + p;
    return -1;
}

void fv_net_copy_weights(fv_net *net, float *buf, int to_net) {
    if (to_net) net->weights_version++;
    for (int i = 0; i < net->n_params; i++) {
        const fv_param_decl *d = &net->nodes[net->params[i].node].params[net->params[i].local];
        float *w = net->param_block + d->offset;
        memcpy(to_net ? w : buf, to_net ? buf : w, d->count * sizeof *w);
        buf += d->count;
    }
}

size_t fv_net_weight_count(const fv_net *net, int trainable_only) {
    size_t total = 0;
    for (int i = 0; i < net->n_params; i++) {
        const fv_param_decl *d = &net->nodes[net->params[i].node].params[net->params[i].local];
        if (d->trainable || !trainable_only) total += d->count;
    }
    return total;
}

