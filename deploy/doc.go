// Package deploy holds no code: its tests check the deployment files in
// this directory with the real tools (promtool, amtool, docker-compose,
// kubectl kustomize) and run the whole pipeline end to end on loopback.
package deploy
