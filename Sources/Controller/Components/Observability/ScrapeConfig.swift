/// VictoriaMetrics' `-promscrape.config`: Kubernetes service discovery confined to one namespace.
/// Convention (as Prometheus' community charts): a pod or Service annotated
/// `prometheus.io/scrape: "true"` is scraped, at `prometheus.io/port` and `prometheus.io/path`
/// (default `/metrics`). VictoriaMetrics scrapes itself too.
struct ScrapeConfig {
    var namespace: String
    var interval = "30s"

    func yaml() -> String {
        """
        global:
          scrape_interval: \(interval)
        scrape_configs:
          - job_name: victoria-metrics
            static_configs:
              - targets: ["localhost:\(ObservabilityStack.victoriaMetricsPort)"]
          - job_name: kubernetes-pods
            kubernetes_sd_configs:
              - role: pod
                namespaces:
                  names: ["\(namespace)"]
            relabel_configs:
        \(annotationRelabeling(kind: "pod"))
              - source_labels: [__meta_kubernetes_pod_name]
                target_label: pod
              - source_labels: [__meta_kubernetes_pod_container_name]
                target_label: container
          - job_name: kubernetes-services
            kubernetes_sd_configs:
              - role: endpoints
                namespaces:
                  names: ["\(namespace)"]
            relabel_configs:
        \(annotationRelabeling(kind: "service"))
              - source_labels: [__meta_kubernetes_service_name]
                target_label: service
              - source_labels: [__meta_kubernetes_pod_name]
                target_label: pod

        """
    }

    /// Keep annotated targets, take path and port from the annotations, label the namespace.
    private func annotationRelabeling(kind: String) -> String {
        """
              - source_labels: [__meta_kubernetes_\(kind)_annotation_prometheus_io_scrape]
                action: keep
                regex: "true"
              - source_labels: [__meta_kubernetes_\(kind)_annotation_prometheus_io_path]
                action: replace
                regex: (.+)
                target_label: __metrics_path__
              - source_labels: [__address__, __meta_kubernetes_\(kind)_annotation_prometheus_io_port]
                action: replace
                regex: ([^:]+)(?::\\d+)?;(\\d+)
                replacement: $1:$2
                target_label: __address__
              - source_labels: [__meta_kubernetes_namespace]
                target_label: namespace
        """
    }
}
