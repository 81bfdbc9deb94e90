Console.WriteLine("fabricctl");
