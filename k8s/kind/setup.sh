#!/usr/bin/env bash
# Creates the kind cluster and installs ingress-nginx into it. Needs kind, kubectl, helm, Docker.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER="${CLUSTER:-flowgate}"
if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config kind-config.yaml
fi
kubectl config use-context "kind-$CLUSTER"
helm upgrade --install ingress-nginx ingress-nginx \
  --repo https://kubernetes.github.io/ingress-nginx \
  --namespace ingress-nginx --create-namespace \
  -f k8s/kind/ingress-nginx-values.yaml --wait --timeout 5m
echo "kind cluster $CLUSTER is ready; ingress answers on http://localhost:8080"
