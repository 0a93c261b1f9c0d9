# SPDX-License-Identifier: MIT
#
# The shipped taggers' training settings, in one place: sourced by scripts/models/pos.sh and
# scripts/models/ner.sh (which ship the models) and bench/tagger/run.sh (which trains them beside
# NLTK and OpenNLP). Not run on its own.
#
# TAGGER_EPOCHS: passes over the training files; the best epoch on the validation files is kept.
# TAGGER_MAX_BYTES[model]: the trainer prunes the smallest weights until the file fits
# (--max-size; docs/MODELS.md): pos and ner to 2,000,000 bytes, the full-tag POS model (measured,
# not shipped) to the trainer's 4.5 MB default.
TAGGER_EPOCHS=8
declare -A TAGGER_MAX_BYTES=([pos]=2000000 [pos-full]=4500000 [ner]=2000000)
