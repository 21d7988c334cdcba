#!/bin/bash
secs=$1
pm=$(head -1 /work/main/.state/t/postgres/data/postmaster.pid)
pids=$(pgrep -f "disputedesk.cli serve")
tot(){ s=0; for p in $@; do v=$(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null); s=$((s+${v:-0})); done; echo $s; }
pgt(){ # postmaster + children incl. reaped (cutime/cstime of postmaster)
  v=$(awk '{print $14+$15+$16+$17}' /proc/$pm/stat); echo $((v + $(tot $(pgrep -P $pm)))); }
declare -A a; for p in $pids; do a[$p]=$(tot $p); done; pg0=$(pgt)
sleep $secs
sum=0
for p in $pids; do d=$(( $(tot $p) - ${a[$p]} )); sum=$((sum+d)); echo "$(tr '\0' ' ' < /proc/$p/cmdline | awk '{print $5}') $d"; done
d=$(( $(pgt) - pg0 )); sum=$((sum+d)); echo "postgres $d"
python3 -c "print('services+pg cores', round($sum/100/$secs,4))"
