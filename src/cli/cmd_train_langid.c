/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type langid`: trains a language identifier (placeholder until that model type exists).
 */
#include "cli/cli.h"

int cmd_train_langid(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("--type langid: language identifier training is not available in this build yet");
    return MN_EXIT_USAGE;
}
