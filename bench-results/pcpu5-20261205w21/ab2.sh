#!/usr/bin/env bash
# A third pair after ab.sh, order cut then base. usage: ab2.sh
here=/work/wt/pcpu5/bench-results/pcpu5-20261205w21
export MULT=${MULT:-0.5}
bash $here/run_one.sh /tmp/pcpu5-cut cut-3
bash $here/run_one.sh /tmp/pcpu5-base base-3
