// The activations a direct kernel applies to its results before it stores them (the deployed
// graph fuses a ReLU or h-swish that alone follows a convolution into it).
#ifndef MODNAS_ACTIVATION_H
#define MODNAS_ACTIVATION_H

typedef enum {
    MODNAS_ACTIVATION_NONE = 0,
    /// max(x, 0)
    MODNAS_ACTIVATION_RELU = 1,
    /// x · min(max(x + 3, 0), 6) / 6, in that order (the engine's hardSwish).
    MODNAS_ACTIVATION_HARD_SWISH = 2,
} modnas_activation;

#endif
