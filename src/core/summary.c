/* summary.c — the Keras-style model summary. */
#include "core/net.h"

#include <stdio.h>
#include <string.h>

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
    const fv_op *op = fv_op_for(node->layer.kind);
    snprintf(label, size, "%s (%s)", node->name, op->label ? op->label(&node->layer) : op->type_name);
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
        char shape[80], count[32];
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
