#!/usr/bin/env bash
# One-shot topic bootstrap (the compose service "topics"): creates every topic listed in
# topics.txt beside this script with rpk (name, partitions, replicas, then key=value topic
# configs), then exits 0; topics that already exist are kept. Hosts never create topics
# in production (ONEX_ENV=prod refuses create_topics): this is the operator's step.
#   RPK_BROKERS=redpanda:9092 redpanda/create-topics.sh [topics file]
set -euo pipefail
topics="${1:-$(dirname "$0")/topics.txt}"
while read -r name partitions replicas configs; do
  [[ -z "${name}" || "${name}" == \#* ]] && continue
  args=(topic create "${name}" --partitions "${partitions}" --replicas "${replicas}")
  for config in ${configs}; do
    args+=(-c "${config}")
  done
  if ! rpk "${args[@]}"; then
    rpk topic describe "${name}" > /dev/null   # it exists already: fine; else fail
  fi
done < "${topics}"
rpk topic list
