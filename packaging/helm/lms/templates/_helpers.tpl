{{/*
Names. The proxies' Deployment and Service take the release's name ("lms" when the release is
called lms, "<release>-lms" otherwise), as the documentation's connection strings expect.
*/}}
{{- define "lms.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lms.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lms.orchestratorName" -}}
{{- printf "%s-orchestrator" (include "lms.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The headless Service the orchestrator resolves to find every proxy pod. */}}
{{- define "lms.headlessName" -}}
{{- printf "%s-headless" (include "lms.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lms.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lms.labels" -}}
helm.sh/chart: {{ include "lms.chart" . }}
{{ include "lms.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "lms.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lms.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lms.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lms.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lms.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* host:port, with brackets around an IPv6 address. */}}
{{- define "lms.hostPort" -}}
{{- if contains ":" .host }}[{{ .host }}]:{{ .port }}{{ else }}{{ .host }}:{{ .port }}{{ end }}
{{- end }}

{{/* "true" when the orchestrator serves HTTPS (ORCH_TLS_CERT is among its environment). */}}
{{- define "lms.orchestratorTLS" -}}
{{- range .Values.orchestrator.env }}{{ if eq .name "ORCH_TLS_CERT" }}true{{ end }}{{ end }}
{{- end }}
