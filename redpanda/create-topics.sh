#!/usr/bin/env bash
# Creates the topics of contracts/runtime/orders_host.yaml (hosts never create topics).
set -euo pipefail
for domain in orders users; do
  for signal in cmd evt error; do
    rpk topic create "onex.acme.${domain}.${signal}.v1" --partitions 8 --replicas 1 || true
  done
done
