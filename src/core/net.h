/* net.h — the network object, shared by the core's files: building (net.c), planning (plan.c),
 * running (exec.c) and the summary (summary.c). */
#ifndef FOVEA_NET_H
#define FOVEA_NET_H

#include "core/core.h"

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

    /* parameters: created once, kept across re-plans */
    float *param_block;
    /* planned per batch size and mode */
    fv_precision precision; /* of the next plans (fv_net_set_precision) */
    int batch;
    fv_backend backend;
    fv_plan_mode mode;
    fv_precision planned_precision; /* of this plan */
    unsigned char *cast_block;      /* the products' operands in bf16 plans (fv_step's cast) */
    float *grad_block;     /* parameter gradients; NULL for inference */
    void *engine;          /* the backend's per-network state (oneDNN engine and stream) */
    float *act_block;      /* node outputs (shared by several nodes in an inference plan) */
    float *act_grad_block; /* node gradients (inspection: then the fused activations' d(pre-activation)); NULL for inference */
    unsigned char *scratch_block;
    float *temp_grad[FV_MAX_INPUTS]; /* a second consumer's gradient, before it is summed in */
    unsigned char *grad_written;     /* per node, during backward */
    int want_input_grad;             /* compute d loss / d input (saliency); training needs none */
    int guided;                      /* backward with guided ReLUs (src/inspect/saliency.c) */
    int last_training;
    uint64_t weights_version;        /* bumped wherever the weights may change (fv_step's) */
    uint64_t noise_seed;   /* dropout's: each sample's mask derives from it, the node and the sample */
    uint64_t first_sample; /* the number of the batch's first sample (fv_net_set_first_sample) */
    fv_comm *comm;         /* a replica among comm's ranks (fv_net_set_comm), or NULL */
    double share;          /* this rank's part of each training batch (fv_fit sets it) */
    /* Called after each node's backward in training (a data-parallel step starts summing the
     * gradients of the nodes done); NULL: none. */
    void (*after_backward)(void *user, int node);
    void *after_backward_user;
    struct fv_net *inspection; /* the twin attribution runs on while this one is planned otherwise
                                  (src/inspect/attribution.c), or NULL; freed with it */
};

/* Frees everything planned (not the parameters). */
void fv_net_release_plan(fv_net *net);

#endif
