/* exec.c — running a planned network: forward over the nodes in order, backward in reverse,
 * each node on its kernel (a backend's, or the layer's reference). Nothing here allocates. */
#include "core/net.h"

#include <string.h>

int fv_net_want_input_grad(fv_net *net, int on) {
    int was = net->want_input_grad;
    net->want_input_grad = on;
    return was;
}

void fv_net_reseed(fv_net *net, uint64_t seed) {
    net->noise_seed = fv_mix64(seed ^ 0xD1B54A32D192ED03ull);
    net->first_sample = 0;
}

void fv_net_set_first_sample(fv_net *net, uint64_t first) { net->first_sample = first; }

float *fv_net_gradient_block(fv_net *net, size_t *count) {
    *count = net->grad_block ? net->param_floats : 0;
    return net->grad_block;
}

fv_comm *fv_net_comm(const fv_net *net) { return net->comm; }

void fv_net_set_comm(fv_net *net, fv_comm *comm) {
    int was = net->comm ? net->comm->size : 1, now = comm ? comm->size : 1;
    net->comm = comm;
    net->share = 1.0;
    if (was != now && net->batch) fv_net_release_plan(net); /* batch norm's kernels depend on it */
}

/* Sums n doubles across the ranks a step's batch is split over (nothing alone). A failure (a rank
 * died) is kept in the communicator's net and reported by the step's caller: reference kernels
 * cannot return one. */
void fv_step_sum(const fv_step *s, double *values, size_t n) {
    if (!s->comm || s->comm->size < 2) return;
    fv_error err;
    if (s->comm->sum_doubles(s->comm, values, n, &err) != FV_OK) memset(values, 0, n * sizeof *values);
}

static void bind_step(fv_net *net, const fv_node *node, fv_step *step, int training) {
    memset(step, 0, sizeof *step);
    step->batch = net->batch;
    step->training = training;
    for (int j = 0; j < node->n_inputs; j++) step->in[j] = net->nodes[node->inputs[j]].out;
    step->out = node->out;
    if (node->sum.add) /* a convolution computing the add after it (plan.c's fuse_sums): its output, and its other input */
        step->out = net->nodes[node->sum.add].out, step->in[1] = net->nodes[node->sum.other].out;
    for (int p = 0; p < node->n_params; p++) {
        step->param[p] = net->param_block + node->params[p].offset;
        step->d_param[p] = net->grad_block ? net->grad_block + node->params[p].offset : NULL;
    }
    step->scratch = node->scratch;
    step->noise_seed = fv_mix64(net->noise_seed + (uint64_t)(node - net->nodes));
    step->first_sample = net->first_sample;
    step->comm = training && net->comm && net->comm->size > 1 ? net->comm : NULL;
    step->share = step->comm ? net->share : 1.0;
    step->logits = node->logits;
    step->d_pre = node->pre_grad;
    step->guided = net->guided;
    step->precision = net->planned_precision;
    memcpy(step->cast, node->cast, sizeof step->cast);
    step->weights_version = net->mode == FV_PLAN_INFERENCE ? net->weights_version : 0;
}

static fv_status run_node(fv_node *node, const fv_step *step, int backward, fv_error *err) {
    if (node->kernel) {
        fv_error why;
        fv_status st = backward ? node->kernel->backward(node, node->kernel_state, step, &why)
                                : node->kernel->forward(node, node->kernel_state, step, &why);
        return st == FV_OK ? FV_OK : fv_fail(err, "layer '%s' (%s %s): %s", node->name, node->kernel->name,
                                             backward ? "backward" : "forward", why.message);
    }
    const fv_op *op = fv_op_for(node->layer.kind);
    (backward ? op->backward : op->forward)(node, step);
    return FV_OK;
}

fv_status fv_net_forward(fv_net *net, const float *input, int training, fv_error *err) {
    if (net->batch == 0) return fv_fail(err, "network '%s' must be planned before forward", net->name);
    fv_node *first = &net->nodes[0];
    memcpy(first->out, input, (size_t)net->batch * fv_shape_count(first->out_shape) * sizeof(float));
    for (int i = 1; i < net->n_nodes; i++) {
        fv_step step;
        bind_step(net, &net->nodes[i], &step, training);
        if (run_node(&net->nodes[i], &step, 0, err) != FV_OK) return FV_ERR;
    }
    net->last_training = training;
    return FV_OK;
}

fv_status fv_net_backward(fv_net *net, const float *d_output, fv_error *err) {
    if (net->batch == 0) return fv_fail(err, "network '%s' must be planned before backward", net->name);
    if (net->mode == FV_PLAN_INFERENCE)
        return fv_fail(err, "network '%s' is planned for inference, which keeps no gradients (plan it for training or inspection)", net->name);
    fv_node *last = &net->nodes[net->n_nodes - 1];
    memcpy(last->grad, d_output, (size_t)net->batch * fv_shape_count(last->out_shape) * sizeof(float));
    return fv_net_backward_from_output_grad(net, 0, err);
}

fv_node *fv_net_output(fv_net *net) { return &net->nodes[net->n_nodes - 1]; }

fv_activation fv_node_activation(const fv_node *node, float *alpha) {
    const fv_op *op = fv_op_for(node->layer.kind);
    *alpha = 0.0f;
    return op->activation ? op->activation(&node->layer, alpha) : FV_ACT_LINEAR;
}

fv_status fv_net_backward_from_output_grad(fv_net *net, int pre_activation, fv_error *err) {
    if (!net->act_grad_block) return fv_fail(err, "network '%s' is planned for inference, which keeps no gradients", net->name);
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
            if (src == 0 && !net->want_input_grad && fv_op_for(node->layer.kind)->input_grad_optional)
                step.d_in[j] = NULL, summed[j] = 0; /* its gradient buffer is left as it was */
        }
        step.d_out = node->grad;
        step.d_out_is_pre_activation = pre_activation && i == last;
        if (run_node(node, &step, 1, err) != FV_OK) return FV_ERR;
        if (net->after_backward && net->last_training) net->after_backward(net->after_backward_user, i);
        for (int j = 0; j < node->n_inputs; j++) {
            fv_node *src = &net->nodes[node->inputs[j]];
            if (summed[j]) {
                size_t n = (size_t)net->batch * fv_shape_count(src->out_shape);
                for (size_t k = 0; k < n; k++) src->grad[k] += net->temp_grad[j][k];
            }
            net->grad_written[node->inputs[j]] = 1;
        }
    }
    return FV_OK;
}
