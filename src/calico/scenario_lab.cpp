// The built-in scenario. This text and examples/lab-ipip.yaml are one scenario written twice;
// ScenarioExamples.BuiltInLabIsTheExampleFile fails the moment they differ.

#include <calisim/calico/scenario.hpp>

namespace calisim::calico {

std::string_view default_lab_scenario_yaml() {
  static constexpr std::string_view kLab = R"lab(# calisim's built-in scenario: two VirtualBox VMs running kubeadm and Calico from the stock
# manifest (IPIP, node-to-node BGP mesh). `calisim run` with no file runs exactly this text.
#
# Each VM has two NICs. enp0s3 is VirtualBox's NAT: every VM gets 10.0.2.15/24 on a network of
# its own, so the two enp0s3 share nothing. enp0s8 is the host-only /25 both VMs sit on. Calico
# must be told to use enp0s8 (IP_AUTODETECTION_METHOD); lab-wrong-autodetect.yaml shows what
# can-reach=8.8.8.8 does instead.
apiVersion: calisim.io/v1
kind: Topology
metadata:
  name: lab-ipip
spec:
  seed: 1
  duration: 30s
  subnets:
  - name: lab
    cidr: 203.248.23.128/25
    link: {rate: 1Gbit, delay: 50us, mtu: 1500}
  calicoNode:
    env:
      # Laid over the calico-node env of manifests/calico.yaml (CALICO_IPV4POOL_IPIP=Always,
      # IP=autodetect, ...). The default pool: 192.168.0.0/16, /26 blocks, IPIP Always,
      # natOutgoing true.
      CALICO_IPV4POOL_CIDR: 192.168.0.0/16
      CALICO_IPV4POOL_IPIP: Always
      IP_AUTODETECTION_METHOD: interface=enp0s8
  nodes:
  - name: user-controller
    role: control-plane
    interfaces:
    - name: enp0s3
      address: 10.0.2.15/24
    - name: enp0s8
      address: 203.248.23.214/25
      subnet: lab
    defaultGateway: 10.0.2.2
  - name: user-worker
    interfaces:
    - name: enp0s3
      address: 10.0.2.15/24
    - name: enp0s8
      address: 203.248.23.215/25
      subnet: lab
    defaultGateway: 10.0.2.2
  traffic:
  - at: 10s
    ping:
      from: default/hello-776c774f98-894tt
      to: default/hi
      count: 5
---
# The pods, in the order they were created on the controller. coredns and
# calico-kube-controllers belong to Deployments, but their pods came up interleaved, so they
# are written as pods with the names they had.
apiVersion: v1
kind: Pod
metadata:
  name: coredns-64897985d-vbpn4
  namespace: kube-system
  labels: {k8s-app: kube-dns, pod-template-hash: 64897985d}
spec:
  nodeName: user-controller
---
apiVersion: v1
kind: Pod
metadata:
  name: calico-kube-controllers-56fcbf9d6b-nlqg2
  namespace: kube-system
  labels: {k8s-app: calico-kube-controllers, pod-template-hash: 56fcbf9d6b}
spec:
  nodeName: user-controller
---
apiVersion: v1
kind: Pod
metadata:
  name: coredns-64897985d-jgj5s
  namespace: kube-system
  labels: {k8s-app: kube-dns, pod-template-hash: 64897985d}
spec:
  nodeName: user-controller
---
# A scratch pod, deleted again: its address goes to the back of the block's free list.
apiVersion: v1
kind: Pod
metadata:
  name: tmp
  annotations:
    calisim.io/delete-at: 2s
spec:
  nodeName: user-controller
  containers:
  - {name: tmp, image: busybox, command: [sleep, infinity]}
---
apiVersion: v1
kind: Pod
metadata:
  name: hi
  labels: {app: hi}
  annotations:
    calisim.io/create-at: 3s
spec:
  nodeName: user-controller
  containers:
  - {name: hi, image: busybox, command: [sleep, infinity]}
---
# One replica, placed by the scheduler on the worker. The annotations pin the names the lab's
# pod had (Kubernetes derives them from a hash and a random draw).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  annotations:
    calisim.io/pod-template-hash: 776c774f98
    calisim.io/pod-name-suffixes: 894tt
spec:
  replicas: 1
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - {name: hello, image: busybox, command: [sleep, infinity]}
)lab";
  return kLab;
}

}  // namespace calisim::calico
