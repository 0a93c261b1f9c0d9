/* SPDX-License-Identifier: MIT
 *
 * What other files of src/models/ need from the language identifier (langid.c): quantising a
 * langid model quantises the classifier inside it and keeps the script table and threshold.
 */
#ifndef MN_MODELS_LANGID_H
#define MN_MODELS_LANGID_H

#include "internal.h"

/* mn_model_quantize for MN_MODEL_LANGID models (m must be one). */
int mn__langid_quantize(const mn_model *m, const mn_quantize_config *cfg, mn_model **out,
                        mn_err *err);

#endif
