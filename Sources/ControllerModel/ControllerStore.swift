/// Everything the controller persists, and (as a `StoreChangeFeed`) the changes it commits. One
/// implementation (`SQLStore`) runs on SQLite or, for several replicas, on PostgreSQL. Consumers take
/// the narrow part they use (`any AlertingStore`, `any IdentityStore`, …); only the server that wires
/// them holds the whole.
public protocol ControllerStore: FleetStore, ManagedEnvironmentStore, AlertingStore, IdentityStore, TokenStore, AuditStore, StoreChangeFeed {}
