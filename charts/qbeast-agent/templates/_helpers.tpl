{{- define "qbeast-agent.name" -}}qbeast-agent{{- end -}}

{{- define "qbeast-agent.labels" -}}
app.kubernetes.io/name: qbeast-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "qbeast-agent.selector" -}}
app.kubernetes.io/name: qbeast-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "qbeast-agent.tokenSecret" -}}
{{- if .Values.enrollment.existingSecret -}}{{ .Values.enrollment.existingSecret }}{{- else -}}{{ .Release.Name }}-enrollment{{- end -}}
{{- end -}}

{{/*
The image: image.repository, its registry (the first path component, when it has a '.' or ':' or is
localhost) replaced by global.imageRegistry when that is set; tagged image.tag, else the chart's
appVersion with '+' spelled '_' (OCI tags cannot carry '+'; Helm spells it the same way); or pinned
by image.digest (repository@sha256:…) when that is set.
*/}}
{{- define "qbeast-agent.image" -}}
{{- $repository := .Values.image.repository -}}
{{- $mirror := trimSuffix "/" ((.Values.global).imageRegistry | default "") -}}
{{- if $mirror -}}
{{- $parts := splitList "/" $repository -}}
{{- $first := first $parts -}}
{{- if or (contains "." $first) (contains ":" $first) (eq $first "localhost") -}}
{{- $repository = rest $parts | join "/" -}}
{{- end -}}
{{- $repository = printf "%s/%s" $mirror $repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default (.Chart.AppVersion | replace "+" "_")) -}}
{{- end -}}
{{- end -}}

{{/* The TCP port of an https:// URL: the one it names, else 443. */}}
{{- define "qbeast-agent.urlPort" -}}
{{- $host := (urlParse .).host -}}
{{- if and (contains ":" $host) (not (hasSuffix "]" $host)) -}}{{ splitList ":" $host | last }}{{- else -}}443{{- end -}}
{{- end -}}
