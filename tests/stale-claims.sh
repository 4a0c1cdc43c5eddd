# SPDX-License-Identifier: GPL-2.0
# Sourced by scripts/host-tests: the stale experiment's table and claim in
# `xptilab report`, on copies of the fixture given a "stale" member with
# known counts. The claim must follow the counts all three ways: the
# control sees nothing (inconclusive), sync leaves stale reads a flush does
# not (Beulich supported), sync leaves none (Beulich not borne out).

# stale_fixture OUT CONTROL SYNC_SAME [EMPTY_SAME]: stale reads of none/same,
# of sync/same and of empty/same (default: CONTROL), fill full; n = 50.
stale_fixture() {
	python3 - "$fixture" "$1" "$2" "$3" "${4:-$2}" <<'PY'
import json, sys
src, out, control, sync_same = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
empty_same = int(sys.argv[5])
d = json.load(open(src))
rows = []
for v in ["none", "empty", "sync", "flush", "flush-nonglobal", "invpcid"]:
    for c in ["nonglobal", "global"]:
        for f in ["full", "shadow"]:
            for s in ["same", "shadow", "full"]:
                k = 0
                if v in ("none", "empty") and s == "same" and f == "full":
                    k = control if v == "none" else empty_same
                if v in ("none", "empty") and s == "shadow":
                    k = 50
                if v == "sync" and s == "same" and f == "full":
                    k = sync_same
                rows.append({"variant": v, "clones": c, "fill": f, "state": s,
                             "skipped": False, "trials": 50, "stale": k,
                             "fresh": 50 - k, "other": 0, "disturbed": 0,
                             "fill_errors": 0})
d["stale"] = {"experiment": "stale", "schema": 1, "platform": "bochs",
              "control": {"trials": 50, "stale": control}, "rows": rows}
json.dump(d, open(out, "w"))
PY
}

stale_claim_is() { # NAME CONTROL SYNC_SAME PATTERN [EMPTY_SAME]
	local d=$tmp/stale-$2-$3-${5:-x}
	mkdir -p "$d"
	if ! stale_fixture "$d/results.json" "$2" "$3" "${5:-}" ||
	   ! "$tool" report --quiet --no-plots "$d" > /dev/null 2>&1; then
		not_ok "$1" "report failed"
		return
	fi
	if grep -q -- "$4" "$d/claims.txt" && grep -q -- "$4" "$d/report.md" &&
	   grep -q '## Stale translations (platform: bochs)' "$d/report.md" &&
	   grep -q '0/50 (95% upper bound 5.8%)' "$d/report.md"; then
		ok "$1"
	else
		not_ok "$1" "wanted '$4', the table and a zero's bound; claims.txt says:" \
			"$(grep '^stale:' "$d/claims.txt" | cut -c1-300)"
	fi
}

stale_claim_is "stale claim: no stale read in the control is inconclusive" 0 0 \
	"Inconclusive: the positive control"
stale_claim_is "stale claim: sync stale where flush is not supports Beulich" 48 30 \
	"Beulich's point is supported here"
stale_claim_is "stale claim: sync never stale does not bear Beulich out" 48 0 \
	"Beulich's point is not borne out here"
stale_claim_is "stale claim: an empty IPI already flushing is inconclusive" 48 0 \
	"Inconclusive for the IPI variants" 0

# A merged file (make bench's) keeps each guest's stale member: the report
# renders one table and one claim per guest that ran it, named by guest.
stale_merged() {
	local d=$tmp/stale-merged
	mkdir -p "$d"
	stale_fixture "$tmp/stale-g1.json" 48 30 || return 1
	stale_fixture "$tmp/stale-g2.json" 0 0 || return 1
	"$tool" merge --out "$d/results.json" bochs="$tmp/stale-g1.json" \
		qemu="$tmp/stale-g2.json" "nostale=$fixture" > /dev/null || return 1
	"$tool" report --quiet --no-plots "$d" > /dev/null || return 1
	grep -q '^## Stale translations (bochs, platform: bochs)' "$d/report.md" &&
	grep -q '^## Stale translations (qemu, platform: bochs)' "$d/report.md" &&
	! grep -q 'Stale translations (nostale' "$d/report.md" &&
	grep -q "^stale bochs: .*Beulich's point is supported here" "$d/claims.txt" &&
	grep -q '^stale qemu: .*Inconclusive: the positive control' "$d/claims.txt" ||
		{ grep -n -i 'stale' "$d/report.md" "$d/claims.txt" | cut -c1-200; return 1; }
}
check "stale: a merged file keeps each guest's table and claim" stale_merged
