#!/bin/bash
# alternate base and lead/idle, idle CPU over 60 s each after 20 s settle
for round in 1 2; do
  for v in base main; do
    d=/work/main; [ $v = base ] && d=/tmp/idle-base
    /tmp/idle/start.sh $d > /dev/null
    sleep 20
    echo "== $v round $round load $(cut -d' ' -f1 /proc/loadavg)"
    /tmp/idle/measure.sh 60
  done
done
pkill -f "disputedesk.cli serve"
