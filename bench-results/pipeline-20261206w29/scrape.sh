# scrape.sh OUTDIR: each service's /metrics every 2 s while the e2e runs (last copy kept per service)
out=$1; mkdir -p $out
while true; do for p in 34800 34801 34802 34803; do curl -s -m 1 localhost:$p/metrics > $out/m-$p.tmp 2>/dev/null && [ -s $out/m-$p.tmp ] && grep -q consumer_batch_seconds_count\\\|http_request $out/m-$p.tmp && mv $out/m-$p.tmp $out/m-$p.txt; done; sleep 2; done
