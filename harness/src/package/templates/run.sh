#!/usr/bin/env bash
# The entrypoint of a PrairieLearn externally graded question (put it in the question's
# `tests/`): PrairieLearn puts the student's files in /grade/student and reads
# /grade/results/results.json. Written by `harness package prairielearn`.
#
# GRADE (default /grade) and HARNESS (default the image's kit) may be set to run it
# elsewhere: the kit's own tests run it in a temporary folder.
root=${GRADE:-/grade}
kit=${KIT:-/kit}
harness=${HARNESS:-$kit/bin/harness}
mkdir -p "$root/results"   # PrairieLearn does not make it; the harness refuses a missing folder
cd "$kit"
"$harness" --target "$root/student" @@GRADE_ARGS@@ \
    --prairielearn "$root/results/results.json"
exit 0
