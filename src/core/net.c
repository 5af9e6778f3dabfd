/* net.c — the network graph: building with shape inference, planning memory once per batch
 * size, and driving forward and backward over the nodes in the order they were added (which is
 * a topological order: a node can only read earlier nodes). */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FV_ALIGN 64

typedef struct param_ref {
    int node, local; /* nodes[node].params[local] */
} param_ref;

struct fv_net {
    char name[FV_NAME_MAX];
    fv_node *nodes;
    int n_nodes, cap_nodes;
    param_ref *params;
    int n_params, cap_params;
    size_t param_floats;
    int kind_counter[FV_LAYER_KIND_COUNT + FV_ACT_COUNT];

    /* parameters: created on the first plan, kept across re-plans */
    float *param_block, *grad_block;
    /* planned per batch size */
    int batch;
    fv_backend backend;
    void *engine;          /* oneDNN engine and stream, when that backend is used */
    float *act_block;      /* every node's output */
    float *act_grad_block; /* every node's gradient */
    unsigned char *scratch_block;
    float *temp_grad[FV_MAX_INPUTS]; /* a second consumer's gradient, before it is summed in */
    unsigned char *grad_written;     /* per node, during backward */
    int want_input_grad;             /* compute d loss / d input (saliency); training needs none */
    int last_training;
    fv_rng rng;
};

static size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static void *alloc_aligned(size_t bytes) {
    if (bytes == 0) bytes = FV_ALIGN;
    void *p = aligned_alloc(FV_ALIGN, align_up(bytes, FV_ALIGN));
    if (p) memset(p, 0, align_up(bytes, FV_ALIGN));
    return p;
}

const fv_op *fv_op_for(fv_layer_kind kind) {
    static const fv_op *const table[FV_LAYER_KIND_COUNT] = {
        [FV_LAYER_INPUT] = &fv_op_input,
        [FV_LAYER_CONV2D] = &fv_op_conv2d,
        [FV_LAYER_CONV1D] = &fv_op_conv1d,
        [FV_LAYER_DENSE] = &fv_op_dense,
        [FV_LAYER_MAXPOOL2D] = &fv_op_maxpool2d,
        [FV_LAYER_AVGPOOL2D] = &fv_op_avgpool2d,
        [FV_LAYER_SUMPOOL2D] = &fv_op_sumpool2d,
        [FV_LAYER_GLOBAL_AVGPOOL] = &fv_op_global_avgpool,
        [FV_LAYER_FLATTEN] = &fv_op_flatten,
        [FV_LAYER_DROPOUT] = &fv_op_dropout,
        [FV_LAYER_BATCHNORM] = &fv_op_batchnorm,
        [FV_LAYER_ADD] = &fv_op_add,
        [FV_LAYER_ACTIVATION] = &fv_op_activation,
    };
    return (unsigned)kind < FV_LAYER_KIND_COUNT ? table[kind] : NULL;
}

const char *fv_layer_kind_name(fv_layer_kind kind) {
    static const char *const names[FV_LAYER_KIND_COUNT] = {
        [FV_LAYER_INPUT] = "input",         [FV_LAYER_CONV2D] = "conv2d",
        [FV_LAYER_CONV1D] = "conv1d",       [FV_LAYER_DENSE] = "dense",
        [FV_LAYER_MAXPOOL2D] = "maxpool2d", [FV_LAYER_AVGPOOL2D] = "avgpool2d",
        [FV_LAYER_SUMPOOL2D] = "sumpool2d", [FV_LAYER_GLOBAL_AVGPOOL] = "global_avgpool",
        [FV_LAYER_FLATTEN] = "flatten",     [FV_LAYER_DROPOUT] = "dropout",
        [FV_LAYER_BATCHNORM] = "batchnorm", [FV_LAYER_ADD] = "add",
        [FV_LAYER_ACTIVATION] = "activation",
    };
    return (unsigned)kind < FV_LAYER_KIND_COUNT ? names[kind] : "?";
}

int fv_backend_available(fv_backend backend) {
#ifdef FOVEA_HAVE_DNNL
    return backend == FV_BACKEND_REFERENCE || backend == FV_BACKEND_ONEDNN;
#else
    return backend == FV_BACKEND_REFERENCE;
#endif
}

fv_backend fv_backend_default(void) {
    return fv_backend_available(FV_BACKEND_ONEDNN) ? FV_BACKEND_ONEDNN : FV_BACKEND_REFERENCE;
}

const char *fv_backend_name(fv_backend backend) {
    return backend == FV_BACKEND_ONEDNN ? "onednn" : "reference";
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

static void release_plan(fv_net *net) {
    for (int i = 0; i < net->n_nodes; i++) {
        const fv_op *op = fv_op_for(net->nodes[i].layer.kind);
        if (op->release) op->release(&net->nodes[i]);
        net->nodes[i].backend = NULL;
    }
#ifdef FOVEA_HAVE_DNNL
    if (net->engine) fv_dnnl_engine_free(net->engine);
#endif
    net->engine = NULL;
    free(net->act_block);
    free(net->act_grad_block);
    free(net->scratch_block);
    free(net->grad_written);
    for (int i = 0; i < FV_MAX_INPUTS; i++) free(net->temp_grad[i]), net->temp_grad[i] = NULL;
    net->act_block = net->act_grad_block = NULL;
    net->scratch_block = net->grad_written = NULL;
    if (net->n_nodes) net->nodes[net->n_nodes - 1].logits = NULL;
    net->batch = 0;
}

void fv_net_free(fv_net *net) {
    if (!net) return;
    release_plan(net);
    free(net->param_block);
    free(net->grad_block);
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
    for (int i = 0; i < rank; i++) p->dim[i] = dim[i], p->count *= (size_t)dim[i];
}

static int name_taken(const fv_net *net, const char *name) {
    for (int i = 0; i < net->n_nodes; i++)
        if (strcmp(net->nodes[i].name, name) == 0) return 1;
    return 0;
}

/* Keras-like automatic names: conv2d_1, conv2d_2, relu_1 ... */
static void auto_name(fv_net *net, const fv_layer *layer, char *out) {
    int slot = layer->kind == FV_LAYER_ACTIVATION ? FV_LAYER_KIND_COUNT + (int)layer->activation
                                                   : (int)layer->kind;
    const char *base = layer->kind == FV_LAYER_ACTIVATION ? fv_activation_name(layer->activation)
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
    for (int i = 0; i < node.out_shape.rank; i++)
        if (node.out_shape.dim[i] <= 0)
            return fv_fail(err, "layer '%s' (%s): output shape has a dimension of %d (input too small)",
                           node.name, fv_layer_kind_name(layer->kind), node.out_shape.dim[i]), -1;

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
        net->param_floats += align_up(node.params[p].count, FV_ALIGN / sizeof(float));
        net->params[net->n_params++] = (param_ref){net->n_nodes, p};
    }
    net->nodes[net->n_nodes] = node;
    return net->n_nodes++;
}

int fv_net_add(fv_net *net, const fv_layer *layer, const char *name, fv_error *err) {
    int prev = net->n_nodes - 1;
    return fv_net_add_from(net, layer, name, &prev, layer->kind == FV_LAYER_INPUT ? 0 : 1, err);
}

fv_status fv_net_init_params(fv_net *net, uint64_t seed, fv_error *err) {
    if (net->param_block) return FV_OK;
    net->param_block = alloc_aligned(net->param_floats * sizeof(float));
    net->grad_block = alloc_aligned(net->param_floats * sizeof(float));
    if (!net->param_block || !net->grad_block)
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

fv_status fv_net_plan(fv_net *net, int batch, fv_backend backend, uint64_t seed, fv_error *err) {
    if (net->n_nodes == 0) return fv_fail(err, "network '%s' has no layers", net->name);
    if (batch <= 0) return fv_fail(err, "batch size must be positive, got %d", batch);
    if (!fv_backend_available(backend))
        return fv_fail(err, "backend '%s' is not compiled into this build of fovea", fv_backend_name(backend));
    release_plan(net);
    if (fv_net_init_params(net, seed, err) != FV_OK) return FV_ERR;
    fv_net_reseed(net, seed);

    size_t act_floats = 0, scratch_bytes = 0, largest = 0;
    int max_inputs = 0;
    for (int i = 0; i < net->n_nodes; i++) {
        const fv_node *node = &net->nodes[i];
        size_t n = align_up((size_t)batch * fv_shape_count(node->out_shape), FV_ALIGN / sizeof(float));
        act_floats += n;
        largest = n > largest ? n : largest;
        scratch_bytes += align_up(node->scratch_per_sample * (size_t)batch + node->scratch_fixed, FV_ALIGN);
        max_inputs = node->n_inputs > max_inputs ? node->n_inputs : max_inputs;
    }
    fv_node *last = &net->nodes[net->n_nodes - 1];
    fv_activation out_act = fv_node_activation(last);
    size_t logit_floats = out_act == FV_ACT_SOFTMAX || out_act == FV_ACT_SIGMOID
                              ? align_up((size_t)batch * fv_shape_count(last->out_shape), FV_ALIGN / sizeof(float)) : 0;
    act_floats += logit_floats;
    net->act_block = alloc_aligned(act_floats * sizeof(float));
    net->act_grad_block = alloc_aligned(act_floats * sizeof(float));
    net->scratch_block = alloc_aligned(scratch_bytes);
    net->grad_written = calloc((size_t)net->n_nodes, 1);
    int ok = net->act_block && net->act_grad_block && net->scratch_block && net->grad_written;
    for (int i = 0; i < max_inputs && ok; i++) ok = (net->temp_grad[i] = alloc_aligned(largest * sizeof(float))) != NULL;
    if (!ok) {
        release_plan(net);
        return fv_fail(err, "out of memory planning '%s' for batch %d (%zu activations)", net->name, batch, act_floats);
    }

    size_t act_at = logit_floats, scratch_at = 0;
    last->logits = logit_floats ? net->act_block : NULL;
    for (int i = 0; i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        node->out = net->act_block + act_at;
        node->grad = net->act_grad_block + act_at;
        act_at += align_up((size_t)batch * fv_shape_count(node->out_shape), FV_ALIGN / sizeof(float));
        node->scratch = net->scratch_block + scratch_at;
        scratch_at += align_up(node->scratch_per_sample * (size_t)batch + node->scratch_fixed, FV_ALIGN);
    }
    net->batch = batch;
    net->backend = backend;
#ifdef FOVEA_HAVE_DNNL
    if (backend == FV_BACKEND_ONEDNN && !(net->engine = fv_dnnl_engine_new(err))) {
        release_plan(net);
        return FV_ERR;
    }
#endif
    for (int i = 0; i < net->n_nodes; i++) {
        fv_node *node = &net->nodes[i];
        const fv_op *op = fv_op_for(node->layer.kind);
        if (op->plan && op->plan(node, batch, backend, net->engine, err) != FV_OK) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message);
            release_plan(net);
            return fv_fail(err, "layer '%s': %s", node->name, why);
        }
    }
    return FV_OK;
}

int fv_net_batch(const fv_net *net) { return net->batch; }
fv_backend fv_net_backend(const fv_net *net) { return net->batch ? net->backend : fv_backend_default(); }

void fv_net_want_input_grad(fv_net *net, int on) { net->want_input_grad = on; }

void fv_net_reseed(fv_net *net, uint64_t seed) { fv_rng_seed(&net->rng, seed ^ 0xD1B54A32D192ED03ull); }

static void bind_step(fv_net *net, const fv_node *node, fv_step *step, int training) {
    memset(step, 0, sizeof *step);
    step->batch = net->batch;
    step->training = training;
    step->backend = net->backend;
    for (int j = 0; j < node->n_inputs; j++) step->in[j] = net->nodes[node->inputs[j]].out;
    step->out = node->out;
    for (int p = 0; p < node->n_params; p++) {
        step->param[p] = net->param_block + node->params[p].offset;
        step->d_param[p] = net->grad_block + node->params[p].offset;
    }
    step->scratch = node->scratch;
    step->rng = &net->rng;
    step->logits = node->logits;
}

fv_status fv_net_forward(fv_net *net, const float *input, int training, fv_error *err) {
    if (net->batch == 0) return fv_fail(err, "network '%s' must be planned before forward", net->name);
    fv_node *first = &net->nodes[0];
    memcpy(first->out, input, (size_t)net->batch * fv_shape_count(first->out_shape) * sizeof(float));
    for (int i = 1; i < net->n_nodes; i++) {
        fv_step step;
        bind_step(net, &net->nodes[i], &step, training);
        fv_op_for(net->nodes[i].layer.kind)->forward(&net->nodes[i], &step);
    }
    net->last_training = training;
    return FV_OK;
}

fv_status fv_net_backward(fv_net *net, const float *d_output, fv_error *err) {
    if (net->batch == 0) return fv_fail(err, "network '%s' must be planned before backward", net->name);
    fv_node *last = &net->nodes[net->n_nodes - 1];
    memcpy(last->grad, d_output, (size_t)net->batch * fv_shape_count(last->out_shape) * sizeof(float));
    fv_net_backward_from_output_grad(net, 0);
    return FV_OK;
}

fv_node *fv_net_output(fv_net *net) { return &net->nodes[net->n_nodes - 1]; }

fv_activation fv_node_activation(const fv_node *node) {
    switch (node->layer.kind) {
    case FV_LAYER_CONV2D: case FV_LAYER_CONV1D: case FV_LAYER_DENSE: case FV_LAYER_ACTIVATION:
        return node->layer.activation;
    default:
        return FV_ACT_LINEAR;
    }
}

void fv_net_backward_from_output_grad(fv_net *net, int pre_activation) {
    int last = net->n_nodes - 1;
    memset(net->grad_written, 0, (size_t)net->n_nodes);
    net->grad_written[last] = 1;
    for (int i = last; i >= 1; i--) {
        fv_node *node = &net->nodes[i];
        fv_step step;
        bind_step(net, node, &step, net->last_training);
        if (!net->grad_written[i]) { /* not on the path to the output: no gradient reaches it */
            memset(node->grad, 0, (size_t)net->batch * fv_shape_count(node->out_shape) * sizeof(float));
            for (int p = 0; p < node->n_params; p++) memset(step.d_param[p], 0, node->params[p].count * sizeof(float));
            continue;
        }
        int summed[FV_MAX_INPUTS] = {0};
        for (int j = 0; j < node->n_inputs; j++) {
            int src = node->inputs[j], seen = net->grad_written[src];
            for (int k = 0; k < j; k++) seen |= node->inputs[k] == src;
            summed[j] = seen;
            step.d_in[j] = seen ? net->temp_grad[j] : net->nodes[src].grad;
            fv_layer_kind k = node->layer.kind;
            if (src == 0 && !net->want_input_grad && (k == FV_LAYER_CONV2D || k == FV_LAYER_CONV1D || k == FV_LAYER_DENSE))
                step.d_in[j] = NULL, summed[j] = 0; /* its gradient buffer is left as it was */
        }
        step.d_out = node->grad;
        step.d_out_is_pre_activation = pre_activation && i == last;
        fv_op_for(node->layer.kind)->backward(node, &step);
        for (int j = 0; j < node->n_inputs; j++) {
            fv_node *src = &net->nodes[node->inputs[j]];
            if (summed[j]) {
                size_t n = (size_t)net->batch * fv_shape_count(src->out_shape);
                for (size_t k = 0; k < n; k++) src->grad[k] += net->temp_grad[j][k];
            }
            net->grad_written[node->inputs[j]] = 1;
        }
    }
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

fv_shape fv_net_node_shape(const fv_net *net, int node) {
    fv_shape none = {0, {0, 0, 0}};
    return valid_node(net, node) ? net->nodes[node].out_shape : none;
}

float *fv_net_node_output(fv_net *net, int node) { return valid_node(net, node) ? net->nodes[node].out : NULL; }
float *fv_net_node_grad(fv_net *net, int node) { return valid_node(net, node) ? net->nodes[node].grad : NULL; }

int fv_net_node_inputs(const fv_net *net, int node, int *inputs, int max) {
    if (!valid_node(net, node)) return 0;
    for (int j = 0; j < net->nodes[node].n_inputs && j < max; j++) inputs[j] = net->nodes[node].inputs[j];
    return net->nodes[node].n_inputs;
}

int fv_net_param_count(const fv_net *net) { return net->n_params; }

fv_status fv_net_param(const fv_net *net, int index, fv_param_info *out, fv_error *err) {
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

int fv_net_find_param(const fv_net *net, int node, const char *name) {
    if (!valid_node(net, node)) return -1;
    const fv_node *n = &net->nodes[node];
    for (int p = 0; p < n->n_params; p++)
        if (strcmp(n->params[p].name, name) == 0) return n->first_param + p;
    return -1;
}

void fv_net_copy_weights(fv_net *net, float *buf, int to_net) {
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

/* ---- Summary, laid out as Keras prints it. ---- */
static size_t node_weights(const fv_node *node) {
    size_t n = 0;
    for (int p = 0; p < node->n_params; p++) n += node->params[p].count;
    return n;
}

static void thousands(size_t v, char *out, size_t size) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static void node_label(const fv_node *node, char *label, size_t size) {
    const char *type = fv_op_for(node->layer.kind)->type_name;
    if (node->layer.kind == FV_LAYER_ACTIVATION && node->layer.activation == FV_ACT_RELU) type = "ReLU";
    if (node->layer.kind == FV_LAYER_ACTIVATION && node->layer.activation == FV_ACT_LEAKY_RELU) type = "LeakyReLU";
    snprintf(label, size, "%s (%s)", node->name, type);
}

int fv_net_summary(const fv_net *net, char *buf, size_t size) {
    fv_text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    int sequential = 1, label_width = 28;
    char label[128];
    for (int i = 0; i < net->n_nodes; i++) {
        if (i > 0) sequential &= net->nodes[i].n_inputs == 1 && net->nodes[i].inputs[0] == i - 1;
        node_label(&net->nodes[i], label, sizeof label);
        label_width = (int)strlen(label) > label_width ? (int)strlen(label) : label_width;
    }
    int width = label_width + 37 + (sequential ? 0 : 25);
    char rule_eq[256], rule_us[256];
    memset(rule_eq, '=', (size_t)width), rule_eq[width] = '\0';
    memset(rule_us, '_', (size_t)width), rule_us[width] = '\0';

    fv_text_put(&t, "Model: \"%s\"\n%s\n", net->name, rule_us);
    fv_text_put(&t, " %-*s %-25s %-10s%s\n%s\n", label_width, "Layer (type)", "Output Shape", "Param #",
         sequential ? "" : " Connected to", rule_eq);
    for (int i = 0; i < net->n_nodes; i++) {
        const fv_node *node = &net->nodes[i];
        char shape[64], count[32];
        node_label(node, label, sizeof label);
        fv_shape_format(node->out_shape, shape, sizeof shape);
        thousands(node_weights(node), count, sizeof count);
        fv_text_put(&t, " %-*s %-25s %-10s", label_width, label, shape, count);
        for (int j = 0; !sequential && j < node->n_inputs; j++)
            fv_text_put(&t, "%s%s", j ? ", " : " ", net->nodes[node->inputs[j]].name);
        fv_text_put(&t, "\n%s\n", i + 1 < net->n_nodes ? "" : rule_eq);
    }
    char total[32], trainable[32], frozen[32];
    size_t all = fv_net_weight_count(net, 0), train = fv_net_weight_count(net, 1);
    thousands(all, total, sizeof total);
    thousands(train, trainable, sizeof trainable);
    thousands(all - train, frozen, sizeof frozen);
    fv_text_put(&t, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s\n", total, trainable,
         frozen, rule_us);
    return (int)t.len;
}
