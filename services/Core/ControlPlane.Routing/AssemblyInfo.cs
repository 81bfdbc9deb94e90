using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ControlPlane.Routing.Tests")]
