using YamlDotNet.RepresentationModel;

namespace ControlPlane.Charts.Tests;

public sealed class ChartTests
{
    [Fact]
    public void Chart_lints_clean()
    {
        var (code, output) = Helm.Run("lint", "--strict", Helm.ChartPath);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void Every_deployment_probes_health_and_reads_store_and_bus_from_the_secret()
    {
        var docs = Helm.Template();
        var deployments = docs.Where(d => Str(d, "kind") == "Deployment").ToList();
        Assert.NotEmpty(deployments);
        foreach (var dep in deployments)
        {
            var container = (YamlMappingNode)Seq(Map(Map(Map(dep, "spec"), "template"), "spec"), "containers")[0];
            Assert.Equal("/healthz", Str(Map(Map(container, "livenessProbe"), "httpGet"), "path"));
            Assert.Equal("/readyz", Str(Map(Map(container, "readinessProbe"), "httpGet"), "path"));
            var env = Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(e => Str(e, "name"));
            Assert.Equal("Postgres", Str(env["Store__Provider"], "value"));
            Assert.StartsWith("http://+:", Str(env["Urls"], "value"), StringComparison.Ordinal); // not the hosts' 127.0.0.1 default
            Assert.Equal("RabbitMq", Str(env["Bus__Transport"], "value"));
            Assert.Equal("rabbitmq", Str(Map(Map(env["ConnectionStrings__rabbitmq"], "valueFrom"), "secretKeyRef"), "key"));
            Assert.Contains(env.Keys, k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && k != "ConnectionStrings__rabbitmq");
            Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"), "the OTLP exporter is off unless an endpoint is set");
        }
    }

    [Fact]
    public void Values_switch_registry_tag_otel_and_existing_secret()
    {
        var docs = Helm.Template(
            "--set", "image.registry=reg.example/fabric", "--set", "image.tag=abc123",
            "--set", "otel.endpoint=http://otel:4317", "--set", "connections.existingSecret=mine");
        Assert.DoesNotContain(docs, d => Str(d, "kind") == "Secret");
        var dep = docs.First(d => Str(d, "kind") == "Deployment" && Str(Map(d, "metadata"), "name").EndsWith("-inventory", StringComparison.Ordinal));
        var container = (YamlMappingNode)Seq(Map(Map(Map(dep, "spec"), "template"), "spec"), "containers")[0];
        Assert.Equal("reg.example/fabric/controlplane-inventory:abc123", Str(container, "image"));
        var env = Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(e => Str(e, "name"));
        Assert.Equal("http://otel:4317", Str(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "value"));
        Assert.Equal("mine", Str(Map(Map(env["ConnectionStrings__rabbitmq"], "valueFrom"), "secretKeyRef"), "name"));
    }

    [Fact]
    public void Telemetry_reads_the_inventory_tables_through_its_own_connection_name()
    {
        var docs = Helm.Template();
        var dep = docs.Single(d => Str(d, "kind") == "Deployment" && Str(Map(d, "metadata"), "name").EndsWith("-telemetry", StringComparison.Ordinal));
        var container = (YamlMappingNode)Seq(Map(Map(Map(dep, "spec"), "template"), "spec"), "containers")[0];
        var env = Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(e => Str(e, "name"));
        Assert.Equal("postgres", Str(Map(Map(env["ConnectionStrings__telemetry"], "valueFrom"), "secretKeyRef"), "key"));
        Assert.Equal("postgres", Str(Map(Map(env["ConnectionStrings__inventory"], "valueFrom"), "secretKeyRef"), "key"));
    }

    [Fact]
    public void A_disabled_service_renders_nothing()
    {
        string[] off = ["--set", "services.inventory.enabled=false", "--set", "services.telemetry.enabled=false",
            "--set", "services.routing.enabled=false", "--set", "services.distribution.enabled=false", "--set", "services.agents.enabled=false"];
        var docs = Helm.Template(off);
        Assert.DoesNotContain(docs, d => Str(d, "kind") is "Deployment" or "Service");
        var one = Helm.Template([.. off[..^2], "--set", "services.agents.enabled=true"]);
        Assert.Single(one, d => Str(d, "kind") == "Deployment");
    }

    [Fact]
    public void Loop_services_read_the_agent_credential_key_from_the_secret_and_the_emulated_fabric_is_opt_in()
    {
        var docs = Helm.Template();
        Assert.DoesNotContain(docs, d => Str(d, "kind") == "Deployment" && Str(Map(d, "metadata"), "name").EndsWith("-agents", StringComparison.Ordinal));
        foreach (var name in new[] { "routing", "distribution" })
        {
            var dep = docs.Single(d => Str(d, "kind") == "Deployment" && Str(Map(d, "metadata"), "name").EndsWith("-" + name, StringComparison.Ordinal));
            var container = (YamlMappingNode)Seq(Map(Map(Map(dep, "spec"), "template"), "spec"), "containers")[0];
            var env = Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(e => Str(e, "name"));
            Assert.Equal("agent-credential-key", Str(Map(Map(env["Agents__CredentialKey"], "valueFrom"), "secretKeyRef"), "key"));
            Assert.False(env["Agents__CredentialKey"].Children.ContainsKey(new YamlScalarNode("value")), "the key must not be inlined in the Deployment");
        }
        var secret = docs.Single(d => Str(d, "kind") == "Secret");
        Assert.True(Map(secret, "stringData").Children.ContainsKey(new YamlScalarNode("agent-credential-key")));
        var withAgents = Helm.Template("--set", "services.agents.enabled=true");
        var agents = withAgents.Single(d => Str(d, "kind") == "Deployment" && Str(Map(d, "metadata"), "name").EndsWith("-agents", StringComparison.Ordinal));
        var c = (YamlMappingNode)Seq(Map(Map(Map(agents, "spec"), "template"), "spec"), "containers")[0];
        var e = Seq(c, "env").Cast<YamlMappingNode>().ToDictionary(x => Str(x, "name"));
        Assert.Equal("true", Str(e["Emulation__Enabled"], "value"));
    }

    [Fact]
    public void Skaffold_builds_an_image_for_every_chart_service()
    {
        var skaffold = File.ReadAllText(Path.Combine(Helm.RepoRoot, "skaffold.yaml"));
        var stream = new YamlStream();
        stream.Load(new StringReader(skaffold));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var images = Seq(Map(root, "build"), "artifacts").Cast<YamlMappingNode>().Select(a => Str(a, "image")).ToHashSet();
        var values = new YamlStream();
        values.Load(new StringReader(File.ReadAllText(Path.Combine(Helm.ChartPath, "values.yaml"))));
        var services = Map((YamlMappingNode)values.Documents[0].RootNode, "services");
        foreach (var (_, svc) in services.Children)
            Assert.Contains(Str((YamlMappingNode)svc, "image"), images);
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static YamlSequenceNode Seq(YamlMappingNode node, string key) => (YamlSequenceNode)node.Children[new YamlScalarNode(key)];

    private static string Str(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value ?? "" : "";
}
