from kubevet.cli import console

console()
