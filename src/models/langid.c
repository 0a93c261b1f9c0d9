/* SPDX-License-Identifier: MIT
 *
 * The language identifier model type (placeholder until it is built: files of this type are refused with a
 * clear message rather than misread).
 */
#include "internal.h"

#include "format.h"

int mn__langid_load(const struct mn_file *f, mn_model **out, mn_err *err)
{
    (void)out;
    mn_file_close((mn_file *)f);
    return mn_err_set(err, MN_EUNSUPPORTED, "language identifier models are not supported by this build");
}
