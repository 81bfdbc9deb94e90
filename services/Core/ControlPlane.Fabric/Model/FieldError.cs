namespace ControlPlane.Fabric;

/// <summary>One problem with an input: the field it concerns (a JSON-path-like name) and why.</summary>
/// <param name="Field">Field name, e.g. "radix" or "links[12].b".</param>
/// <param name="Reason">Human-readable reason.</param>
public sealed record FieldError(string Field, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>Thrown by the core when an input is invalid; carries every problem found.</summary>
public sealed class FabricInputException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public FabricInputException(IReadOnlyList<FieldError> errors)
        : base(errors.Count == 0 ? "invalid input" : string.Join("; ", errors.Take(20).Select(e => e.ToString())) + (errors.Count > 20 ? $"; and {errors.Count - 20} more" : ""))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception from one problem.</summary>
    public FabricInputException(string field, string reason) : this([new FieldError(field, reason)])
    {
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<FieldError> Errors { get; }
}
