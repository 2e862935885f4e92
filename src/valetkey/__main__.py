from valetkey.cli import main

main()
