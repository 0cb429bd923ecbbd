// Tests import SplitPlaneTesting and get the smaller support modules with it.
@_exported import KubernetesTestServer
@_exported import TestSupport
