/* SPDX-License-Identifier: MIT
 *
 * `micronlp train --type tagger`: trains a sequence tagger (placeholder until that model type exists).
 */
#include "cli/cli.h"

int cmd_train_tagger(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("--type tagger: sequence tagger training is not available in this build yet");
    return MN_EXIT_USAGE;
}
