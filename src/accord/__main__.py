from accord.cli.main import run

run()
