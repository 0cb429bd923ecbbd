{{- define "qbeast-agent.name" -}}qbeast-agent{{- end -}}

{{- define "qbeast-agent.labels" -}}
app.kubernetes.io/name: qbeast-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "qbeast-agent.selector" -}}
app.kubernetes.io/name: qbeast-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "qbeast-agent.tokenSecret" -}}
{{- if .Values.enrollment.existingSecret -}}{{ .Values.enrollment.existingSecret }}{{- else -}}{{ .Release.Name }}-enrollment{{- end -}}
{{- end -}}
