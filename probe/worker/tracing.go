package worker

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/llmprobe/llmprobe/probe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of llmprobe's spans.
const TracerName = "github.com/llmprobe/llmprobe/probe"

// NewTracerProvider exports spans over OTLP when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set, honouring
// OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, the default, or grpc) and the
// other OTEL_* variables the exporters read; otherwise it is a no-op. The
// caller must call shutdown to flush spans.
func NewTracerProvider(ctx context.Context, version, region string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	nop := func(context.Context) error { return nil }
	if !tracingEnabled() {
		return noop.NewTracerProvider(), nop, nil
	}
	proto, err := tracingProtocol()
	if err != nil {
		return nil, nop, err
	}
	var exp sdktrace.SpanExporter
	if proto == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, nop, fmt.Errorf("create OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "llmprobe"), attribute.String("service.version", version), attribute.String("llmprobe.region", region)))
	if err != nil {
		return nil, nop, fmt.Errorf("build trace resource: %w", err)
	}
	p := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return p, p.Shutdown, nil
}

// tracingEnabled reports whether the OTEL_* variables ask for spans.
func tracingEnabled() bool {
	env := os.Getenv
	return (env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") && env("OTEL_TRACES_EXPORTER") != "none" && env("OTEL_SDK_DISABLED") != "true"
}

// tracingProtocol is the OTLP protocol the OTEL_* variables ask for:
// http/protobuf (the default) or grpc. LoadSettings checks it, so that
// `run --check-config` rejects what `run` would.
func tracingProtocol() (string, error) {
	name := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	proto := strings.TrimSpace(os.Getenv(name))
	if proto == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		proto = strings.TrimSpace(os.Getenv(name))
	}
	switch proto {
	case "", "http/protobuf":
		return "http/protobuf", nil
	case "grpc":
		return proto, nil
	}
	return "", fmt.Errorf("%s: %q is not supported (want http/protobuf or grpc)", name, proto)
}

// RecordSpan turns a finished probe into one client span with a child span
// per phase, at the times the phases happened, and stores the trace ID on r
// (for exemplars and logs) when the span is sampled.
func RecordSpan(tracer trace.Tracer, r *probe.Result) {
	attrs := []attribute.KeyValue{
		attribute.String("llmprobe.provider", r.Provider), attribute.String("llmprobe.check", string(r.Check)),
		attribute.String("llmprobe.model", r.Model), attribute.String("llmprobe.region", r.Region),
		attribute.String("llmprobe.outcome", string(r.Outcome)), attribute.String("llmprobe.reason", string(r.Reason)),
		attribute.String("llmprobe.edge", r.Edge), attribute.String("llmprobe.authored_by", r.AuthoredBy),
		attribute.Int("http.response.status_code", r.StatusCode),
	}
	for k, v := range map[string]string{"llmprobe.edge_pop": r.EdgePOP, "llmprobe.request_id": r.RequestID, "llmprobe.edge_ray": r.EdgeRay} {
		if v != "" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	if r.Tokens.Input+r.Tokens.Output > 0 {
		attrs = append(attrs, attribute.Int("gen_ai.usage.input_tokens", r.Tokens.Input), attribute.Int("gen_ai.usage.output_tokens", r.Tokens.Output))
	}
	ctx, span := tracer.Start(context.Background(), "probe "+r.Provider+" "+string(r.Check),
		trace.WithTimestamp(r.StartedAt), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	for _, ph := range r.Phases {
		_, s := tracer.Start(ctx, ph.Name, trace.WithTimestamp(ph.Start))
		s.End(trace.WithTimestamp(ph.End))
	}
	if !r.Success() {
		span.SetStatus(codes.Error, r.Error)
	}
	span.End(trace.WithTimestamp(r.StartedAt.Add(r.Timings.Total)))
	if sc := span.SpanContext(); sc.IsValid() && sc.IsSampled() {
		r.TraceID = sc.TraceID().String()
	}
}
