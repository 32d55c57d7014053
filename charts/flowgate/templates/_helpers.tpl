{{/* Chart name, overridable. */}}
{{- define "flowgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified prefix. Kept to 40 characters because the operator derives names such as
<prefix>-migrate-<hash> from the Flowgate resource, which must stay within 63.
*/}}
{{- define "flowgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "flowgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flowgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flowgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flowgate.labels" -}}
helm.sh/chart: {{ include "flowgate.chart" . }}
{{ include "flowgate.selectorLabels" . }}
app.kubernetes.io/version: {{ include "flowgate.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: flowgate
{{- end -}}

{{- define "flowgate.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "flowgate.operator.fullname" -}}
{{- printf "%s-operator" (include "flowgate.fullname" .) -}}
{{- end -}}

{{- define "flowgate.operator.image" -}}
{{- default (printf "%s/operator:%s" .Values.image.repository (include "flowgate.tag" .)) .Values.operator.image -}}
{{- end -}}

{{/* The api image, used by the helm test (it has node, so the test needs no extra image). */}}
{{- define "flowgate.api.image" -}}
{{- $api := .Values.flowgate.components.api | default dict -}}
{{- default (printf "%s/api:%s" .Values.image.repository (include "flowgate.tag" .)) $api.image -}}
{{- end -}}

{{/* Secret holding DATABASE_URL, REDIS_URL and RABBITMQ_URL. */}}
{{- define "flowgate.connectionsSecret" -}}
{{- default (printf "%s-connections" (include "flowgate.fullname" .)) .Values.connections.existingSecret -}}
{{- end -}}

{{- define "flowgate.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "flowgate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* A label map as a NetworkPolicy label selector, on one line: {} matches everything. */}}
{{- define "flowgate.labelSelector" -}}
{{- if . -}}
{{- dict "matchLabels" . | toJson -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}
