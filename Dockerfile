# The falcops image: falcops-controller (garden), falcops-extension (seed) and
# falcops-agent with falcoctl (in every Falco pod). Distroless, non-root.
#   make image            # docker build -t falcops:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY hack/falcoctl/ hack/falcoctl/
RUN go mod download && cd hack/falcoctl && GOFLAGS=-mod=mod go mod download
COPY . .
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN go build -trimpath -ldflags="-s -w" -o /out/falcops-controller ./cmd/falcops-controller
RUN go build -trimpath -ldflags="-s -w" -o /out/falcops-extension ./cmd/falcops-extension
RUN go build -trimpath -ldflags="-s -w" -o /out/falcops-agent ./cmd/falcops-agent
RUN cd hack/falcoctl && GOFLAGS=-mod=mod go build -trimpath \
      -ldflags="-s -w -X github.com/falcosecurity/falcoctl/cmd/version.semVersion=0.13.0" \
      -o /out/falcoctl github.com/falcosecurity/falcoctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/falcops-controller /out/falcops-extension /out/falcops-agent /
COPY --from=build /out/falcoctl /usr/bin/falcoctl
USER 65532:65532
ENTRYPOINT ["/falcops-extension"]
