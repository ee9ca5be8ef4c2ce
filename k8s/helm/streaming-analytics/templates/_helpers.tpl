{{/* Names and labels shared by every object. */}}
{{- define "sa.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "sa.processor" -}}{{ .Release.Name }}-processor{{- end -}}
{{- define "sa.headless" -}}{{ .Release.Name }}-processor-headless{{- end -}}
{{- define "sa.fanout" -}}{{ .Release.Name }}-fanout{{- end -}}
{{- define "sa.secret" -}}{{ .Values.secrets.existingSecret | default (printf "%s-env" .Release.Name) }}{{- end -}}
{{- define "sa.secretFiles" -}}{{ .Values.secrets.existingFilesSecret | default (printf "%s-files" .Release.Name) }}{{- end -}}
{{- define "sa.labels" -}}
app.kubernetes.io/name: streaming-analytics
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "sa.selector" -}}
app.kubernetes.io/name: streaming-analytics
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/* The checks a wrong combination of values fails on, before anything is applied. */}}
{{- define "sa.checks" -}}
{{- $partitions := int (index .Values.config "STREAMING_TOPICS__PARTITIONS") -}}
{{- if gt (int .Values.processor.replicas) $partitions -}}
{{- fail (printf "processor.replicas (%d) exceeds the input topic's partitions (config.STREAMING_TOPICS__PARTITIONS = %d): the extra pods would get no task and idle" (int .Values.processor.replicas) $partitions) -}}
{{- end -}}
{{- if le (mul (int .Values.processor.terminationGracePeriodSeconds) 1000) (int .Values.processor.closeTimeoutMs) -}}
{{- fail (printf "processor.terminationGracePeriodSeconds (%ds) must exceed processor.closeTimeoutMs (%dms): the kubelet would SIGKILL a close in progress" (int .Values.processor.terminationGracePeriodSeconds) (int .Values.processor.closeTimeoutMs)) -}}
{{- end -}}
{{- end -}}
