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
# Flowgate's namespace admits only pods meeting the "restricted" Pod Security Standard, as every
# pod of the chart and the operator does; skaffold and Tilt install into it.
kubectl create namespace flowgate --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace flowgate --overwrite \
  pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted
echo "kind cluster $CLUSTER is ready; ingress answers on http://localhost:8080"
