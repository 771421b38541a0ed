"""The main window and what it is made of: actions and menus, notices, the commands on an
Order, the remembered layout."""
